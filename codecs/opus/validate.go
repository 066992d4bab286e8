package opus

// frameLength reads a frame length (RFC 6716 section 3.2.1): one byte
// below 252, else two bytes (b0 + 4*b1). It returns the length and the bytes
// used, or n == 0 when b is too short.
func frameLength(b []byte) (length, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	if b[0] < 252 {
		return int(b[0]), 1
	}
	if len(b) < 2 {
		return 0, 0
	}
	return int(b[0]) + 4*int(b[1]), 2
}

// Validate checks that pkt is a well-formed Opus packet by the rules of
// RFC 6716 section 3.4 (R1-R7): a TOC byte, frame lengths that fit the
// packet, equal sizes for code 1, at most 120 ms, padding that fits. It
// returns ErrInvalidPacket otherwise. It does not decode the frames.
func Validate(pkt []byte) error {
	if _, _, err := parse(pkt); err != nil { // R1, R5 (duration)
		return err
	}
	const maxFrame = 1275
	rest := pkt[1:]
	switch ParseTOC(pkt[0]).FrameCountCode {
	case 0: // R2
		if len(rest) > maxFrame {
			return ErrInvalidPacket
		}
	case 1: // R3
		if len(rest)%2 != 0 || len(rest)/2 > maxFrame {
			return ErrInvalidPacket
		}
	case 2: // R4
		l, n := frameLength(rest)
		if n == 0 || l > len(rest)-n || l > maxFrame || len(rest)-n-l > maxFrame {
			return ErrInvalidPacket
		}
	case 3: // R5-R7
		hdr := rest[0]
		rest = rest[1:]
		count := int(hdr & 0x3f)
		vbr, padded := hdr&0x80 != 0, hdr&0x40 != 0
		if padded {
			pad := 0
			for {
				if len(rest) == 0 {
					return ErrInvalidPacket
				}
				p := int(rest[0])
				rest = rest[1:]
				if p == 255 {
					pad += 254
					continue
				}
				pad += p
				break
			}
			if pad > len(rest) {
				return ErrInvalidPacket
			}
			rest = rest[:len(rest)-pad]
		}
		if vbr {
			total := 0
			for range count - 1 {
				l, n := frameLength(rest)
				if n == 0 || l > maxFrame {
					return ErrInvalidPacket
				}
				rest = rest[n:]
				total += l
			}
			if total > len(rest) || len(rest)-total > maxFrame {
				return ErrInvalidPacket
			}
		} else if len(rest)%count != 0 || len(rest)/count > maxFrame {
			return ErrInvalidPacket
		}
	}
	return nil
}
