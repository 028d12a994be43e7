package ws

import (
	"encoding/binary"
	"unicode/utf8"
)

// WebSocket opcodes and close codes (RFC 6455) the reader deals in.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA

	closeNormal        = 1000
	closeProtocolError = 1002
	closeBadData       = 1007
	closeTooLarge      = 1009
)

// closeError ends a connection with a close frame carrying code.
type closeError struct {
	code   uint16
	reason string
}

func (e *closeError) Error() string { return e.reason }

func protocolError(reason string) error { return &closeError{closeProtocolError, reason} }

// frameReader turns the bytes a client sends into WebSocket messages. It is
// fed whatever a read returned, so frames may arrive in pieces; it keeps
// only what it must between reads (an incomplete frame, a fragmented
// message) and nothing at all while the connection is idle, which is where
// a server holding many quiet connections spends its memory.
type frameReader struct {
	max     int    // largest message payload accepted
	partial []byte // an incomplete frame carried to the next feed; nil when none
	frag    []byte // a fragmented message being assembled
	fragOp  byte   // its opcode; 0 when no message is being assembled
}

// feed parses p (which it may modify: payloads are unmasked in place) and
// calls on for every complete message and control frame, in order. The
// payload passed to on is valid only during the call. An error from on, or
// a *closeError for a protocol violation, stops parsing and is returned.
func (r *frameReader) feed(p []byte, on func(op byte, payload []byte) error) error {
	carried := len(r.partial) > 0
	if carried {
		r.partial = append(r.partial, p...)
		p = r.partial
	}
	for {
		n, err := r.frame(p, on)
		if err != nil {
			r.partial, r.frag = nil, nil
			return err
		}
		if n == 0 {
			break
		}
		p = p[n:]
	}
	switch {
	case len(p) == 0:
		r.partial = nil // idle again: keep nothing
	case carried:
		r.partial = append(r.partial[:0], p...) // p is partial's tail
	default:
		r.partial = append([]byte(nil), p...) // p is the caller's buffer
	}
	return nil
}

// frame handles the frame at the start of p and returns its length, or 0
// when p does not hold a whole frame yet.
func (r *frameReader) frame(p []byte, on func(op byte, payload []byte) error) (int, error) {
	if len(p) < 2 {
		return 0, nil
	}
	fin, rsv, op := p[0]&0x80 != 0, p[0]&0x70, p[0]&0x0F
	masked, size := p[1]&0x80 != 0, uint64(p[1]&0x7F)
	if rsv != 0 {
		// No extension is negotiated, so no reserved bit may be set.
		return 0, protocolError("reserved bits set")
	}
	if !masked {
		return 0, protocolError("client frames must be masked")
	}
	control := op >= opClose
	if control && (!fin || size > 125) {
		return 0, protocolError("control frames must be whole and short")
	}
	head := 2
	switch size {
	case 126:
		if len(p) < 4 {
			return 0, nil
		}
		size, head = uint64(binary.BigEndian.Uint16(p[2:])), 4
	case 127:
		if len(p) < 10 {
			return 0, nil
		}
		size, head = binary.BigEndian.Uint64(p[2:]), 10
		if size>>63 != 0 {
			return 0, protocolError("payload length out of range")
		}
	}
	if size > uint64(r.max) || !control && uint64(len(r.frag))+size > uint64(r.max) {
		// Refused before its payload is read, so a client cannot make the
		// server buffer more than max.
		return 0, &closeError{closeTooLarge, "message too large"}
	}
	total := head + 4 + int(size)
	if len(p) < total {
		return 0, nil
	}
	payload := p[head+4 : total]
	unmask(payload, p[head:head+4])
	switch {
	case control:
		if op != opClose && op != opPing && op != opPong {
			return 0, protocolError("unknown control opcode")
		}
		return total, on(op, payload)
	case op == opContinuation:
		if r.fragOp == 0 {
			return 0, protocolError("continuation without a message")
		}
		r.frag = append(r.frag, payload...)
		if !fin {
			return total, nil
		}
		msg, mop := r.frag, r.fragOp
		r.frag, r.fragOp = nil, 0
		return total, r.message(mop, msg, on)
	case op == opText || op == opBinary:
		if r.fragOp != 0 {
			return 0, protocolError("new message inside a fragmented one")
		}
		if !fin {
			r.fragOp = op
			r.frag = append(make([]byte, 0, len(payload)), payload...)
			return total, nil
		}
		return total, r.message(op, payload, on)
	default:
		return 0, protocolError("unknown data opcode")
	}
}

func (r *frameReader) message(op byte, payload []byte, on func(byte, []byte) error) error {
	if op == opText && !utf8.Valid(payload) {
		return &closeError{closeBadData, "text is not valid UTF-8"}
	}
	return on(op, payload)
}

func unmask(p, key []byte) {
	for i := range p {
		p[i] ^= key[i&3]
	}
}

// closeReply is the close code to answer a client's close frame with.
func closeReply(payload []byte) uint16 {
	if len(payload) == 0 {
		return closeNormal
	}
	if len(payload) == 1 {
		return closeProtocolError
	}
	code := binary.BigEndian.Uint16(payload)
	switch {
	case code < 1000, code >= 5000, code >= 1016 && code < 3000,
		code == 1004, code == 1005, code == 1006, code == 1014, code == 1015:
		return closeProtocolError
	case !utf8.Valid(payload[2:]):
		return closeBadData
	}
	return closeNormal
}
