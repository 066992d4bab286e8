package ogg

// crcTable is the table of the Ogg CRC-32: polynomial 0x04C11DB7, MSB first
// (not reflected, unlike hash/crc32's IEEE table).
var crcTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// crcUpdate adds b to the running checksum crc.
func crcUpdate(crc uint32, b []byte) uint32 {
	for _, v := range b {
		crc = crc<<8 ^ crcTable[byte(crc>>24)^v]
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
