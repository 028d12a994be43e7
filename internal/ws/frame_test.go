package ws

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// clientFrame builds a masked frame as a client sends it.
func clientFrame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		out = append(out, 0x80|byte(n))
	case n <= 0xFFFF:
		out = append(out, 0x80|126, byte(n>>8), byte(n))
	default:
		out = append(out, 0x80|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	key := []byte{0x12, 0x34, 0x56, 0x78}
	out = append(out, key...)
	masked := append([]byte(nil), payload...)
	unmask(masked, key)
	return append(out, masked...)
}

type got struct {
	op      byte
	payload string
}

// feedAll feeds chunks and collects what the reader reports.
func feedAll(r *frameReader, chunks ...[]byte) ([]got, error) {
	var out []got
	for _, c := range chunks {
		err := r.feed(append([]byte(nil), c...), func(op byte, p []byte) error {
			out = append(out, got{op, string(p)})
			return nil
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestFrameReaderDeliversMessagesWholeAndInOrder(t *testing.T) {
	big := bytes.Repeat([]byte("長"), 30_000) // 90,000 bytes: a 64-bit length
	mid := bytes.Repeat([]byte("x"), 300)    // a 16-bit length
	stream := cat(
		clientFrame(true, opText, []byte(`{"type":"ping"}`)),
		clientFrame(false, opText, []byte("hel")),
		clientFrame(true, opPing, []byte("hb")), // control frames may come between fragments
		clientFrame(false, opContinuation, []byte("lo ")),
		clientFrame(true, opContinuation, []byte("world")),
		clientFrame(true, opBinary, []byte{0xff, 0xfe}), // binary need not be UTF-8
		clientFrame(true, opText, mid),
		clientFrame(true, opText, big),
		clientFrame(true, opPong, nil),
	)
	want := []got{{opText, `{"type":"ping"}`}, {opPing, "hb"}, {opText, "hello world"}, {opBinary, "\xff\xfe"},
		{opText, string(mid)}, {opText, string(big)}, {opPong, ""}}

	for _, size := range []int{len(stream), 1, 2, 3, 7, 100, 4096} {
		t.Run(fmt.Sprint("chunks of ", size), func(t *testing.T) {
			r := &frameReader{max: 100_000}
			var chunks [][]byte
			for p := stream; len(p) > 0; {
				n := min(size, len(p))
				chunks, p = append(chunks, p[:n]), p[n:]
			}
			out, err := feedAll(r, chunks...)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(out) != fmt.Sprint(want) {
				t.Fatalf("got %d frames %.200v\nwant %d %.200v", len(out), out, len(want), want)
			}
			// Between messages the reader holds nothing: an idle
			// connection costs no buffer.
			if r.partial != nil || r.frag != nil || r.fragOp != 0 {
				t.Fatalf("idle reader keeps %d + %d bytes", cap(r.partial), cap(r.frag))
			}
		})
	}
}

func TestFrameReaderRefusesProtocolViolations(t *testing.T) {
	text := func(s string) []byte { return clientFrame(true, opText, []byte(s)) }
	unmasked := text("hi")
	unmasked[1] &^= 0x80
	rsv := text("hi")
	rsv[0] |= 0x40
	hugeLen := []byte{0x80 | opBinary, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1}

	cases := []struct {
		name   string
		stream []byte
		code   uint16
	}{
		{"unmasked", unmasked, closeProtocolError},
		{"reserved bit", rsv, closeProtocolError},
		{"long ping", clientFrame(true, opPing, make([]byte, 126)), closeProtocolError},
		{"fragmented ping", clientFrame(false, opPing, nil), closeProtocolError},
		{"stray continuation", clientFrame(true, opContinuation, []byte("x")), closeProtocolError},
		{"message inside a fragmented one", cat(clientFrame(false, opText, []byte("a")), text("b")), closeProtocolError},
		{"data opcode 3", clientFrame(true, 0x3, nil), closeProtocolError},
		{"control opcode 11", clientFrame(true, 0xB, nil), closeProtocolError},
		{"length with the top bit", hugeLen, closeProtocolError},
		{"bad UTF-8", text("\xc3\x28"), closeBadData},
		// Refused from the header alone: the payload never has to arrive.
		{"frame over the limit", clientFrame(true, opText, make([]byte, 1025))[:8], closeTooLarge},
		{"fragments over the limit", cat(clientFrame(false, opText, make([]byte, 600)), clientFrame(true, opContinuation, make([]byte, 600))), closeTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &frameReader{max: 1024}
			out, err := feedAll(r, text("before"), tc.stream)
			var ce *closeError
			if !errors.As(err, &ce) || ce.code != tc.code {
				t.Fatalf("got %v, want close %d", err, tc.code)
			}
			if len(out) != 1 || out[0].payload != "before" {
				t.Fatalf("messages before the violation: %v", out)
			}
		})
	}
}

func TestFrameReaderStopsOnHandlerError(t *testing.T) {
	r := &frameReader{max: 1024}
	stop := errors.New("stop")
	n := 0
	err := r.feed(cat(clientFrame(true, opClose, []byte{0x03, 0xe8}), clientFrame(true, opText, []byte("after"))), func(byte, []byte) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Fatalf("got %v after %d frames, want stop after 1", err, n)
	}
}

func TestCloseReply(t *testing.T) {
	code := func(c uint16, reason string) []byte { return append(binary.BigEndian.AppendUint16(nil, c), reason...) }
	for _, tc := range []struct {
		payload []byte
		want    uint16
	}{
		{nil, closeNormal},
		{[]byte{3}, closeProtocolError},
		{code(1000, "bye"), closeNormal},
		{code(1001, ""), closeNormal},
		{code(4000, "app"), closeNormal},
		{code(999, ""), closeProtocolError},
		{code(1005, ""), closeProtocolError},
		{code(2000, ""), closeProtocolError},
		{code(5000, ""), closeProtocolError},
		{code(1000, "\xff"), closeBadData},
	} {
		if got := closeReply(tc.payload); got != tc.want {
			t.Errorf("closeReply(%v) = %d, want %d", tc.payload, got, tc.want)
		}
	}
}

// FuzzFrameReader checks that how the bytes are split never changes what is
// read, and that nothing is buffered beyond the limit.
func FuzzFrameReader(f *testing.F) {
	f.Add(cat(clientFrame(true, opText, []byte("hi")), clientFrame(false, opText, []byte("a")), clientFrame(true, opContinuation, []byte("b"))), 3)
	f.Add(clientFrame(true, opPing, []byte("x")), 1)
	f.Add(clientFrame(true, opText, make([]byte, 300)), 5)
	f.Fuzz(func(t *testing.T, stream []byte, split int) {
		whole := &frameReader{max: 512}
		want, wantErr := feedAll(whole, stream)
		var chunks [][]byte
		step := split % 64
		if step < 0 {
			step = -step
		}
		step++
		for p := stream; len(p) > 0; {
			n := min(step, len(p))
			chunks, p = append(chunks, p[:n]), p[n:]
		}
		pieces := &frameReader{max: 512}
		got, gotErr := feedAll(pieces, chunks...)
		if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("split by %d: %v, %v; whole: %v, %v", step, got, gotErr, want, wantErr)
		}
		if len(pieces.partial) > 512+14 || len(pieces.frag) > 512 {
			t.Fatalf("buffered %d + %d bytes with a limit of 512", len(pieces.partial), len(pieces.frag))
		}
	})
}
