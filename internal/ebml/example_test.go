package ebml_test

import (
	"fmt"

	"github.com/gomediarecorder/mediarecorder/internal/ebml"
)

func Example() {
	// An EBML header: build the body, then prepend the master header.
	var body []byte
	body = ebml.AppendUint(body, 0x4286, 1)        // EBMLVersion
	body = ebml.AppendString(body, 0x4282, "webm") // DocType
	b := ebml.AppendMaster(nil, 0x1A45DFA3, uint64(len(body)))
	b = append(b, body...)
	fmt.Printf("% x\n", b)

	id, size, hdr, _ := ebml.ReadElementHeader(b)
	fmt.Printf("id %X size %d header %d\n", id, size, hdr)
	// Output:
	// 1a 45 df a3 8b 42 86 81 01 42 82 84 77 65 62 6d
	// id 1A45DFA3 size 11 header 5
}
