package ogg

import "encoding/binary"

// crcTables are the tables of the Ogg CRC-32 (polynomial 0x04C11DB7, MSB
// first: not reflected, unlike hash/crc32's IEEE table), built once.
// crcTables[0] is the byte-at-a-time table; crcTables[k] advances a byte
// through k more zero bytes, for slicing by 8.
var crcTables = func() (t [8][256]uint32) {
	for i := range t[0] {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[0][i] = r
	}
	for k := 1; k < 8; k++ {
		for i := range t[k] {
			v := t[k-1][i]
			t[k][i] = v<<8 ^ t[0][v>>24]
		}
	}
	return t
}()

// crcUpdate adds b to the running checksum crc.
func crcUpdate(crc uint32, b []byte) uint32 {
	t := &crcTables
	for len(b) >= 8 {
		crc ^= binary.BigEndian.Uint32(b)
		crc = t[7][crc>>24] ^ t[6][crc>>16&0xff] ^ t[5][crc>>8&0xff] ^ t[4][crc&0xff] ^
			t[3][b[4]] ^ t[2][b[5]] ^ t[1][b[6]] ^ t[0][b[7]]
		b = b[8:]
	}
	for _, v := range b {
		crc = crc<<8 ^ t[0][byte(crc>>24)^v]
	}
	return crc
}

// Checksum returns the Ogg CRC-32 of a whole page (initial value 0, no
// final XOR). As RFC 3533 defines it, the CRC field (bytes 22 to 25) counts
// as zero whatever it holds, so the result can be compared with the field
// directly. A slice shorter than 26 bytes is summed as it is.
func Checksum(page []byte) uint32 {
	if len(page) < 26 {
		return crcUpdate(0, page)
	}
	crc := crcUpdate(0, page[:22])
	crc = crcUpdate(crc, zeroCRC[:])
	return crcUpdate(crc, page[26:])
}

// zeroCRC stands in for the checksum field while summing a page.
var zeroCRC [4]byte
