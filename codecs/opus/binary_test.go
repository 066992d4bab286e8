package opus

import (
	"bytes"
	"encoding"
	"reflect"
	"slices"
	"testing"
)

// marshaler is what Head and Tags implement to encode themselves.
type marshaler interface {
	encoding.BinaryAppender
	encoding.BinaryMarshaler
	Len() int
}

var (
	_ marshaler                  = Head{}
	_ marshaler                  = Tags{}
	_ encoding.BinaryUnmarshaler = (*Head)(nil)
	_ encoding.BinaryUnmarshaler = (*Tags)(nil)
)

// testMarshal checks that MarshalBinary gives enc, that AppendBinary
// appends enc and that Len is its length.
func testMarshal(t *testing.T, v marshaler, enc []byte) {
	t.Helper()
	b, err := v.MarshalBinary()
	if err != nil || !bytes.Equal(b, enc) {
		t.Fatalf("MarshalBinary = %q, %v\nwant            %q", b, err, enc)
	}
	if v.Len() != len(b) {
		t.Errorf("Len = %d, want %d", v.Len(), len(b))
	}
	b, err = v.AppendBinary([]byte("x"))
	if want := append([]byte("x"), enc...); err != nil || !bytes.Equal(b, want) {
		t.Fatalf("AppendBinary = %q, %v\nwant           %q", b, err, want)
	}
}

// testParse checks that parse and the UnmarshalBinary method turn enc into
// want, and that parse ignores data after enc, as RFC 7845 asks of the
// ID and comment headers (sections 5.1 and 5.2).
func testParse[T any, P interface {
	*T
	encoding.BinaryUnmarshaler
}](t *testing.T, parse func([]byte) (T, error), enc []byte, want T) {
	t.Helper()
	got, err := parse(enc)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("parse = %+v, %v\nwant    %+v", got, err, want)
	}
	got, err = parse(append(slices.Clone(enc), 1, 2, 0xff))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("parse with trailing data = %+v, %v", got, err)
	}
	var u T
	if err := P(&u).UnmarshalBinary(enc); err != nil || !reflect.DeepEqual(u, want) {
		t.Fatalf("UnmarshalBinary = %+v, %v", u, err)
	}
}
