package loadgen

import (
	"sync/atomic"
	"testing"
	"time"
)

// exchange simulates the server for one conversation: it assigns seqs and
// returns what each side's connection should receive.
type exchange struct {
	l   *Ledger
	seq int64
	now time.Time
}

func newExchange(v *Verifier) *exchange {
	return &exchange{l: v.Conv(7), now: time.Unix(1000, 0)}
}

// send commits one message from side s and returns its seq and id.
func (x *exchange) send(s Side) (int64, string) {
	_, id := x.l.NewSend(s, x.now)
	x.seq++
	return x.seq, id
}

func (x *exchange) ack(s Side, id string, seq int64) {
	_, n, ok := x.l.v.parseClientMsgID(id)
	if !ok {
		panic("not ours: " + id)
	}
	x.l.Acked(s, n, seq)
}

// deliver hands the message to both sides, as the server does.
func (x *exchange) deliver(seq int64, id string) {
	x.l.Received(VisitorSide, seq, id, x.now.Add(time.Millisecond))
	x.l.Received(AgentSide, seq, id, x.now.Add(time.Millisecond))
}

type counts struct{ lost, dup, reord, mism, unacked int64 }

func countsOf(v *Verifier) counts {
	return counts{v.Lost.Load(), v.Duplicates.Load(), v.Reordered.Load(), v.Mismatched.Load(), v.Unacked.Load()}
}

func TestVerifierCleanRun(t *testing.T) {
	v := NewVerifier("r1", true)
	x := newExchange(v)
	for i := range 10 {
		s := Side(i % 2)
		seq, id := x.send(s)
		x.ack(s, id, seq)
		x.deliver(seq, id)
	}
	// A system event (not ours) takes a seq too.
	x.seq++
	x.deliver(x.seq, "")
	v.Finish()
	if got := countsOf(v); got != (counts{}) || v.Failed() {
		t.Fatalf("clean run: counts %+v, problems %q", got, v.Problems())
	}
	if got := v.Delivered.Load(); got != 10 {
		t.Errorf("delivered = %d, want 10", got)
	}
	if got := v.Latency[VisitorSide].Count() + v.Latency[AgentSide].Count(); got != 10 {
		t.Errorf("latency samples = %d, want 10", got)
	}
	if got := x.l.LastSeq(AgentSide); got != 11 {
		t.Errorf("LastSeq = %d, want 11", got)
	}
}

func TestVerifierDetects(t *testing.T) {
	tests := []struct {
		name string
		run  func(x *exchange)
		want counts
	}{
		{"loss: acked, never delivered", func(x *exchange) {
			seq, id := x.send(VisitorSide)
			x.ack(VisitorSide, id, seq)
			// The sender sees its echo; the agent never gets it.
			x.l.Received(VisitorSide, seq, id, x.now)
		}, counts{lost: 1}},
		{"gap never filled", func(x *exchange) {
			s1, id1 := x.send(VisitorSide)
			s2, id2 := x.send(VisitorSide)
			x.ack(VisitorSide, id1, s1)
			x.ack(VisitorSide, id2, s2)
			x.deliver(s1, id1)
			x.l.Received(VisitorSide, s2, id2, x.now)
			// The agent skips s2 and gets a later system event.
			x.seq++
			x.deliver(x.seq, "")
		}, counts{lost: 2}},
		{"duplicate delivery", func(x *exchange) {
			seq, id := x.send(AgentSide)
			x.ack(AgentSide, id, seq)
			x.deliver(seq, id)
			x.l.Received(VisitorSide, seq, id, x.now)
		}, counts{dup: 1}},
		{"stored twice", func(x *exchange) {
			seq, id := x.send(VisitorSide)
			x.ack(VisitorSide, id, seq)
			x.deliver(seq, id)
			// A retry that the server failed to deduplicate.
			x.seq++
			x.ack(VisitorSide, id, x.seq)
			x.deliver(x.seq, id)
		}, counts{dup: 2}}, // the second ack, and the second delivery under a new seq
		{"out of order", func(x *exchange) {
			s1, id1 := x.send(VisitorSide)
			s2, id2 := x.send(VisitorSide)
			x.ack(VisitorSide, id1, s1)
			x.ack(VisitorSide, id2, s2)
			x.deliver(s2, id2)
			x.deliver(s1, id1)
		}, counts{reord: 4}}, // each receiver: the seq out of order and the send order inverted
		{"ack and delivery disagree", func(x *exchange) {
			seq, id := x.send(VisitorSide)
			x.ack(VisitorSide, id, seq+5)
			x.deliver(seq, id)
		}, counts{mism: 2}},
		{"never acked", func(x *exchange) {
			x.send(VisitorSide)
		}, counts{unacked: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewVerifier("r1", true)
			tt.run(newExchange(v))
			v.Finish()
			got := countsOf(v)
			if got != tt.want {
				t.Errorf("counts = %+v, want %+v; problems:\n%q", got, tt.want, v.Problems())
			}
			if (got.lost+got.dup+got.reord+got.mism > 0) != v.Failed() {
				t.Errorf("Failed() = %v with counts %+v", v.Failed(), got)
			}
			if got != (counts{}) && len(v.Problems()) == 0 && got.unacked == 0 {
				t.Errorf("no problem text for %+v", got)
			}
		})
	}
}

func TestVerifierRetriedSendMayBeLate(t *testing.T) {
	// A send retried after a reconnect can be committed after a later one;
	// that is not a violation of the sender's order.
	v := NewVerifier("r1", true)
	x := newExchange(v)
	_, id0 := x.l.NewSend(VisitorSide, x.now)
	_, id1 := x.l.NewSend(VisitorSide, x.now)
	x.l.Retry(VisitorSide, 0)
	x.seq++
	x.ack(VisitorSide, id1, x.seq)
	x.deliver(x.seq, id1)
	x.seq++
	x.ack(VisitorSide, id0, x.seq)
	x.deliver(x.seq, id0)
	v.Finish()
	if got := countsOf(v); got != (counts{}) {
		t.Fatalf("counts = %+v, problems %q", got, v.Problems())
	}
	if got := v.Retried.Load(); got != 1 {
		t.Errorf("retried = %d, want 1", got)
	}
}

func TestVerifierCut(t *testing.T) {
	v := NewVerifier("r1", true)
	x := newExchange(v)
	seqA, idA := x.send(VisitorSide) // in flight at the cut
	var left atomic.Int64
	v.Cut(&left)
	if got := left.Load(); got != 1 {
		t.Fatalf("left after cut = %d, want 1", got)
	}
	seqB, idB := x.send(VisitorSide) // after the cut: not counted
	x.ack(VisitorSide, idA, seqA)
	x.deliver(seqA, idA)
	if got := left.Load(); got != 0 {
		t.Errorf("left after recovery = %d, want 0", got)
	}
	if got := v.Outstanding(); got != 1 {
		t.Errorf("outstanding = %d, want 1", got)
	}
	x.ack(VisitorSide, idB, seqB)
	x.deliver(seqB, idB)
	if got := v.Outstanding(); got != 0 {
		t.Errorf("outstanding = %d, want 0", got)
	}
}

func TestClientMsgIDRoundTrip(t *testing.T) {
	v := NewVerifier("abc", true)
	for _, s := range []Side{VisitorSide, AgentSide} {
		id := v.ClientMsgID(s, 42)
		gs, gn, ok := v.parseClientMsgID(id)
		if !ok || gs != s || gn != 42 {
			t.Errorf("parse(%q) = %v %d %v", id, gs, gn, ok)
		}
	}
	for _, id := range []string{"", "abc-", "abc-x1", "abd-v1", "abc-v-1", "abc-v"} {
		if _, _, ok := v.parseClientMsgID(id); ok {
			t.Errorf("parse(%q) accepted a foreign id", id)
		}
	}
}
