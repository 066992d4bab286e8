package mp4

import "encoding/binary"

// The writer builds boxes by appending to a byte slice: beginBox appends a
// header with a zero size and endBox fills the size in once the body is
// complete. Nothing here allocates when the slice has room.

// beginBox appends the header of a box of type typ and returns the grown
// slice and the offset of the box, for endBox.
func beginBox(b []byte, typ string) ([]byte, int) {
	i := len(b)
	return append(b, 0, 0, 0, 0, typ[0], typ[1], typ[2], typ[3]), i
}

// beginFullBox is beginBox followed by a full box's version and flags.
func beginFullBox(b []byte, typ string, version uint8, flags uint32) ([]byte, int) {
	b, i := beginBox(b, typ)
	return appendU32(b, uint32(version)<<24|flags&0xffffff), i
}

// endBox writes the size of the box that starts at offset i of b.
func endBox(b []byte, i int) {
	binary.BigEndian.PutUint32(b[i:], uint32(len(b)-i))
}

func appendU16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }
func appendU32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
func appendU64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

// appendZeros appends n zero bytes.
func appendZeros(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, 0)
	}
	return b
}

// unityMatrix is the transformation matrix of mvhd and tkhd that leaves
// the picture as it is.
var unityMatrix = [9]uint32{0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000}

func appendMatrix(b []byte) []byte {
	for _, v := range unityMatrix {
		b = appendU32(b, v)
	}
	return b
}
