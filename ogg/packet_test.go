package ogg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/gomediarecorder/mediarecorder/codecs/opus"
)

type wantPacket struct {
	pkt     []byte
	granule int64
	err     error
}

// readAll reads packets until io.EOF or a final error, recording the
// non-final errors as entries.
func readAll(t *testing.T, b []byte) (got []wantPacket, final error) {
	t.Helper()
	r := NewPacketReader(bytes.NewReader(b))
	for range 10000 {
		pkt, g, err := r.NextPacket()
		switch {
		case err == nil:
			got = append(got, wantPacket{pkt: bytes.Clone(pkt), granule: g})
		case errors.Is(err, ErrMissingPage) || errors.Is(err, ErrBadCRC) ||
			errors.Is(err, ErrBadPage) && !errors.Is(err, io.ErrUnexpectedEOF) && r.err == nil:
			got = append(got, wantPacket{err: err})
		default:
			return got, err
		}
	}
	t.Fatal("no end")
	return nil, nil
}

func checkPackets(t *testing.T, got, want []wantPacket) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if w.err != nil || g.err != nil {
			if !errors.Is(g.err, w.err) {
				t.Fatalf("entry %d: error %v, want %v", i, g.err, w.err)
			}
			continue
		}
		if !bytes.Equal(g.pkt, w.pkt) || g.granule != w.granule {
			t.Fatalf("packet %d: %d bytes granule %d, want %d bytes granule %d",
				i, len(g.pkt), g.granule, len(w.pkt), w.granule)
		}
	}
}

func TestPacketReaderFFmpegFile(t *testing.T) {
	in := readTestdata(t)
	got, err := readAll(t, in)
	if err != io.EOF {
		t.Fatalf("final error %v", err)
	}
	h, err := opus.ParseHead(got[0].pkt)
	if err != nil || h.Channels != 1 || h.PreSkip != 312 || h.InputSampleRate != 48000 {
		t.Fatalf("head %+v, %v", h, err)
	}
	tags, err := opus.ParseTags(got[1].pkt)
	if err != nil || tags.Vendor == "" {
		t.Fatalf("tags %+v, %v", tags, err)
	}
	if got[0].granule != 0 || got[1].granule != 0 {
		t.Errorf("header granules %d %d", got[0].granule, got[1].granule)
	}
	// Granules: -1 except on the last packet of a page, where it is the
	// sample count at the end of that packet (0.5 s trimmed at the end).
	var samples int64
	var last int64
	for i, p := range got[2:] {
		n, err := opus.PacketSamples(p.pkt)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		samples += int64(n)
		if p.granule != -1 {
			if i < len(got)-3 && p.granule != samples {
				t.Errorf("packet %d: granule %d, want %d", i, p.granule, samples)
			}
			last = p.granule
		}
	}
	if want := int64(312 + 24000); last != want {
		t.Errorf("final granule %d, want %d", last, want)
	}
}

func TestPacketReaderSpanning(t *testing.T) {
	sizes := []int{100, 255*255 + 1000, 255, 0, 255 * 255, 255 * 255 * 3, 7}
	var pkts [][]byte
	for i, n := range sizes {
		pkts = append(pkts, pattern(n, byte(i)))
	}
	// Lay the packets out by hand: pages of at most 255 lacing values.
	var stream []byte
	var segs []byte
	var body []byte
	seq := uint32(0)
	continued := false
	flush := func(granule int64, flags uint8) {
		if continued {
			flags |= FlagContinued
		}
		stream = append(stream, mustPage(t, Page{Flags: flags, Granule: granule, Serial: 9, Sequence: seq, Segments: segs, Body: body})...)
		seq++
		segs, body = nil, nil
	}
	var want []wantPacket
	granule := int64(0)
	for i, p := range pkts {
		l := lacing(len(p))
		data := p
		for len(l) > 0 {
			room := 255 - len(segs)
			if room == 0 {
				ends := len(segs) > 0 && segs[len(segs)-1] < 255
				g := int64(-1)
				if ends {
					g = granule
				}
				flush(g, 0)
				continued = !ends
				continue
			}
			k := min(room, len(l))
			n := 0
			for _, v := range l[:k] {
				n += int(v)
			}
			segs = append(segs, l[:k]...)
			body = append(body, data[:n]...)
			l, data = l[k:], data[n:]
		}
		granule = int64(i + 1)
		want = append(want, wantPacket{pkt: p, granule: -1})
	}
	flush(granule, FlagEOS)
	// The granule goes to the last packet ending on each page.
	pages := splitPages(t, stream)
	if len(pages) < 5 {
		t.Fatalf("only %d pages", len(pages))
	}
	for _, pg := range pages {
		if pg.granule >= 1 {
			want[pg.granule-1].granule = pg.granule
		}
	}
	got, err := readAll(t, stream)
	if err != io.EOF {
		t.Fatalf("final error %v", err)
	}
	checkPackets(t, got, want)
}

func TestPacketReaderStreams(t *testing.T) {
	page := func(serial, seq uint32, flags uint8, granule int64, sizes ...int) []byte {
		var body []byte
		for _, n := range sizes {
			body = append(body, pattern(n, byte(serial+seq))...)
		}
		return mustPage(t, Page{Flags: flags, Granule: granule, Serial: serial, Sequence: seq, Segments: lacing(sizes...), Body: body})
	}
	pk := func(serial, seq uint32, n int) []byte { return pattern(n, byte(serial+seq)) }
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

	// A page continuing a packet, cut into two pages by hand.
	long := pattern(600, 1)
	splitA := mustPage(t, Page{Serial: 1, Sequence: 1, Granule: -1, Segments: []byte{255, 255}, Body: long[:510]})
	splitB := mustPage(t, Page{Flags: FlagContinued, Serial: 1, Sequence: 2, Granule: 30, Segments: []byte{90, 5}, Body: append(bytes.Clone(long[510:]), pattern(5, 9)...)})
	splitB1 := mustPage(t, Page{Flags: FlagContinued, Serial: 1, Sequence: 1, Granule: 30, Segments: []byte{90, 5}, Body: append(bytes.Clone(long[510:]), pattern(5, 9)...)})

	tests := []struct {
		name  string
		in    []byte
		want  []wantPacket
		final error
	}{
		{
			"interleaved streams", cat(
				page(1, 0, FlagBOS, 0, 19),
				page(2, 0, FlagBOS, 0, 30),
				page(1, 1, 0, 10, 5, 6, 7),
				page(2, 1, FlagEOS, 10, 8),
				page(1, 2, FlagEOS, 20, 9),
			),
			[]wantPacket{
				{pkt: pk(1, 0, 19), granule: 0},
				{pkt: pk(1, 1, 5), granule: -1},
				{pkt: pk(1, 1, 6), granule: -1},
				{pkt: pk(1, 1, 7), granule: 10},
				{pkt: pk(1, 2, 9), granule: 20},
			},
			io.EOF,
		},
		{
			"data after EOS", cat(page(1, 0, FlagBOS|FlagEOS, 5, 3), page(1, 1, 0, 6, 3)),
			[]wantPacket{{pkt: pk(1, 0, 3), granule: 5}},
			io.EOF,
		},
		{
			"no EOS", cat(page(1, 0, FlagBOS, 5, 3)),
			[]wantPacket{{pkt: pk(1, 0, 3), granule: 5}},
			io.EOF,
		},
		{
			"empty stream", nil, nil, io.EOF,
		},
		{
			"joined inside a packet", cat(splitB, page(1, 3, FlagEOS, 40, 4)),
			[]wantPacket{
				{pkt: pattern(5, 9), granule: 30},
				{pkt: pk(1, 3, 4), granule: 40},
			},
			io.EOF,
		},
		{
			"packet across pages", cat(page(1, 0, FlagBOS, 0, 1), splitA, splitB),
			[]wantPacket{
				{pkt: pk(1, 0, 1), granule: 0},
				{pkt: long, granule: -1},
				{pkt: pattern(5, 9), granule: 30},
			},
			io.EOF,
		},
		{
			"lost page inside a packet", cat(page(1, 0, FlagBOS, 0, 1), splitB, page(1, 3, 0, 50, 2)),
			[]wantPacket{
				{pkt: pk(1, 0, 1), granule: 0},
				{err: ErrMissingPage},
				{pkt: pattern(5, 9), granule: 30},
				{pkt: pk(1, 3, 2), granule: 50},
			},
			io.EOF,
		},
		{
			"lost page between packets", cat(page(1, 0, FlagBOS, 0, 1), page(1, 2, 0, 50, 2)),
			[]wantPacket{
				{pkt: pk(1, 0, 1), granule: 0},
				{err: ErrMissingPage},
				{pkt: pk(1, 2, 2), granule: 50},
			},
			io.EOF,
		},
		{
			"continuation missing", cat(splitA, page(1, 2, 0, 50, 2)),
			[]wantPacket{
				{err: ErrBadPage},
				{pkt: pk(1, 2, 2), granule: 50},
			},
			io.EOF,
		},
		{
			"continued flag without a packet", cat(page(1, 0, FlagBOS, 0, 1), splitB1),
			[]wantPacket{
				{pkt: pk(1, 0, 1), granule: 0},
				{err: ErrBadPage},
				{pkt: pattern(5, 9), granule: 30},
			},
			io.EOF,
		},
		{
			"stream ends inside a packet", cat(page(1, 0, FlagBOS, 0, 1), splitA),
			[]wantPacket{{pkt: pk(1, 0, 1), granule: 0}},
			io.ErrUnexpectedEOF,
		},
		{
			"EOS page ends inside a packet", cat(mustPage(t, Page{Flags: FlagEOS, Serial: 1, Granule: -1, Segments: []byte{255}, Body: long[:255]})),
			nil,
			io.ErrUnexpectedEOF,
		},
		{
			"truncated page", page(1, 0, FlagBOS, 0, 100)[:50],
			nil,
			io.ErrUnexpectedEOF,
		},
		{
			"bad page", []byte("OggS\x01 not a page really, no......"),
			nil,
			ErrBadPage,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, tt.in)
			if !errors.Is(err, tt.final) {
				t.Fatalf("final error %v, want %v (packets %v)", err, tt.final, got)
			}
			checkPackets(t, got, tt.want)
		})
	}
}

func TestPacketReaderBadCRC(t *testing.T) {
	in := bytes.Clone(readTestdata(t))
	raws := splitPages(t, in)
	off := len(raws[0].raw) + len(raws[1].raw)
	in[off+len(raws[2].raw)-1] ^= 1 // damage the first audio page
	got, err := readAll(t, in)
	if err != io.EOF {
		t.Fatal(err)
	}
	// head, tags, the CRC error, the gap it leaves, then pages 3 and 4.
	wantN := 2 + 2 + (len(raws[3].segs) + len(raws[4].segs))
	if len(got) != wantN || !errors.Is(got[2].err, ErrBadCRC) || !errors.Is(got[3].err, ErrMissingPage) {
		t.Fatalf("got %d entries (want %d): %v", len(got), wantN, got[:4])
	}
}

func TestPacketReaderMaxLen(t *testing.T) {
	long := pattern(3000, 0)
	var in []byte
	for i := range 12 {
		var flags uint8
		if i > 0 {
			flags = FlagContinued
		}
		in = append(in, mustPage(t, Page{Flags: flags, Serial: 3, Sequence: uint32(i), Granule: -1, Segments: []byte{255}, Body: long[:255]})...)
	}
	in = append(in, mustPage(t, Page{Flags: FlagContinued | FlagEOS, Serial: 3, Sequence: 12, Granule: 1, Segments: []byte{0}})...)
	for _, tt := range []struct {
		max  int
		want error
	}{{12 * 255, nil}, {12*255 - 1, ErrPacketTooLarge}, {1000, ErrPacketTooLarge}} {
		r := NewPacketReader(bytes.NewReader(in))
		r.maxLen = tt.max
		pkt, g, err := r.NextPacket()
		if !errors.Is(err, tt.want) {
			t.Fatalf("max %d: %d bytes, %v; want %v", tt.max, len(pkt), err, tt.want)
		}
		if err == nil && (len(pkt) != 12*255 || g != 1) {
			t.Fatalf("max %d: %d bytes, granule %d", tt.max, len(pkt), g)
		}
		if err != nil {
			if _, _, err2 := r.NextPacket(); err2 != err {
				t.Fatalf("error not sticky: %v", err2)
			}
		}
	}
}

func FuzzPacketReader(f *testing.F) {
	f.Add(readTestdata(f))
	long := pattern(600, 1)
	f.Add(bytes.Join([][]byte{
		mustPage(f, Page{Flags: FlagBOS, Serial: 1, Granule: -1, Segments: []byte{255, 255}, Body: long[:510]}),
		mustPage(f, Page{Flags: FlagContinued | FlagEOS, Serial: 1, Sequence: 1, Granule: 30, Segments: []byte{90, 0}, Body: long[510:]}),
	}, nil))
	f.Add(bytes.Join([][]byte{
		mustPage(f, Page{Flags: FlagBOS, Serial: 1, Segments: lacing(3), Body: []byte("abc")}),
		mustPage(f, Page{Flags: FlagBOS, Serial: 2, Segments: lacing(2), Body: []byte("de")}),
		mustPage(f, Page{Serial: 1, Sequence: 2, Granule: 7, Segments: lacing(1, 0, 2), Body: []byte("fgh")}),
		mustPage(f, Page{Flags: FlagEOS, Serial: 1, Sequence: 3, Granule: 9, Segments: lacing(1), Body: []byte("i")}),
	}, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Most mutations would only test the checksum: repair it, so that
		// the fuzzer explores packet reassembly.
		b = fixChecksums(b)
		r := NewPacketReader(bytes.NewReader(b))
		r.maxLen = 1 << 16
		for range 1000 {
			pkt, _, err := r.NextPacket()
			if err == nil {
				if len(pkt) > r.maxLen {
					t.Fatalf("%d-byte packet over the limit", len(pkt))
				}
				continue
			}
			if errors.Is(err, ErrBadCRC) || errors.Is(err, ErrMissingPage) ||
				errors.Is(err, ErrBadPage) && r.err == nil {
				continue
			}
			if _, _, err2 := r.NextPacket(); err2 != err && !(err == io.EOF && err2 == io.EOF) {
				t.Fatalf("final error %v then %v", err, err2)
			}
			return
		}
	})
}

// fixChecksums sets the checksum of every complete page found by walking
// b from its start, stopping at the first thing that is not a page.
func fixChecksums(b []byte) []byte {
	b = bytes.Clone(b)
	for off := 0; off+HeaderLen <= len(b) && string(b[off:off+4]) == "OggS"; {
		nseg := int(b[off+26])
		if off+HeaderLen+nseg > len(b) {
			break
		}
		n := HeaderLen + nseg
		for _, v := range b[off+HeaderLen : off+HeaderLen+nseg] {
			n += int(v)
		}
		if off+n > len(b) {
			break
		}
		binary.LittleEndian.PutUint32(b[off+22:], Checksum(b[off:off+n]))
		off += n
	}
	return b
}

func BenchmarkPacketReader(b *testing.B) {
	in := readTestdata(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	br := bytes.NewReader(in)
	for b.Loop() {
		br.Reset(in)
		r := NewPacketReader(br)
		for {
			if _, _, err := r.NextPacket(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}
