package loadgen

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Side is one end of a conversation.
type Side int

const (
	VisitorSide Side = 0
	AgentSide   Side = 1
)

func (s Side) String() string {
	if s == AgentSide {
		return "agent"
	}
	return "visitor"
}

func (s Side) other() Side { return 1 - s }

// maxProblems bounds how many problem lines are kept for printing; every
// problem is still counted.
const maxProblems = 50

// Verifier checks delivery in every conversation of a run: each receiver
// must see every seq exactly once and in order, every acknowledged message
// must reach the other side with the seq its ack named, and each sender's
// messages must be committed in the order it sent them. It also measures
// sender->receiver latency, since it is where both ends meet.
//
// Messages the load generator sent are recognised by their client_msg_id,
// "<run>-<v|a><n>", where n counts one side's sends in one conversation
// from 0; that index makes the bookkeeping a slice, not a map.
type Verifier struct {
	run  string
	echo bool // the sending connection receives its own message back

	mu       sync.Mutex
	convs    map[int64]*Ledger
	problems []string

	Lost       atomic.Int64 // acked but never delivered, or a seq gap never filled
	Duplicates atomic.Int64 // a seq seen twice by one receiver, or one client_msg_id stored twice
	Reordered  atomic.Int64 // a seq arrived after a later one, or a sender's messages committed out of order
	Mismatched atomic.Int64 // an ack and a delivery disagree on the seq
	Unacked    atomic.Int64 // sends never acknowledged (counted at Finish)
	Delivered  atomic.Int64 // deliveries of our messages to the other side
	Retried    atomic.Int64 // sends that needed more than one attempt

	// Latency from send to the other side's receipt, by sending side.
	Latency [2]*Histogram
}

// NewVerifier returns a verifier for the run with the given id. echo says
// whether a sender's own connection receives its message back (the
// protocol says every connection that follows the conversation does).
func NewVerifier(run string, echo bool) *Verifier {
	return &Verifier{run: run, echo: echo, convs: map[int64]*Ledger{},
		Latency: [2]*Histogram{NewHistogram(), NewHistogram()}}
}

// Conv returns the ledger of conversation id, creating it on first use.
func (v *Verifier) Conv(id int64) *Ledger {
	v.mu.Lock()
	defer v.mu.Unlock()
	l := v.convs[id]
	if l == nil {
		l = &Ledger{v: v, id: id}
		v.convs[id] = l
	}
	return l
}

// Lookup returns the ledger of conversation id, or nil if it is not part
// of the run (an agent also hears about conversations of other runs).
func (v *Verifier) Lookup(id int64) *Ledger {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.convs[id]
}

func (v *Verifier) problem(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.problems) < maxProblems {
		v.problems = append(v.problems, fmt.Sprintf(format, args...))
	}
}

// Problems returns the first problems found, in the order they were found.
func (v *Verifier) Problems() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.problems)
}

// Failed reports whether anything was lost, duplicated, reordered or
// inconsistent so far.
func (v *Verifier) Failed() bool {
	return v.Lost.Load()+v.Duplicates.Load()+v.Reordered.Load()+v.Mismatched.Load() > 0
}

// Ledger is one conversation's bookkeeping.
type Ledger struct {
	v  *Verifier
	id int64

	mu      sync.Mutex
	recv    [2]seqStream  // what each side's connection received
	sent    [2][]msgRec   // what each side sent, by n
	done    [2]int        // sent[s][:done[s]] are all complete
	lastN   [2][2]int64   // [receiver][sender]: highest n received, -1 before the first
	started [2]bool       // lastN initialised
	cutN    [2]int        // sends before the cut: sent[s][:cutN[s]]
	cutLeft *atomic.Int64 // incomplete sends before the cut, shared by all ledgers
	cutAt   [2]int        // sent[s][cutAt..cutN) counted in cutLeft
}

type msgRec struct {
	sentAt    int64 // unix nanoseconds of the first attempt
	ackSeq    int64
	seq       int64 // seq of the first delivery to the other side
	attempts  uint8
	delivered uint8
	echoed    uint8
}

func (r *msgRec) complete(echo bool) bool {
	return r.ackSeq != 0 && r.delivered > 0 && (!echo || r.echoed > 0)
}

// ID is the conversation id.
func (l *Ledger) ID() int64 { return l.id }

// ClientMsgID formats the client_msg_id of a side's n-th message.
func (v *Verifier) ClientMsgID(s Side, n int) string {
	c := byte('v')
	if s == AgentSide {
		c = 'a'
	}
	return v.run + "-" + string(c) + strconv.Itoa(n)
}

// parseClientMsgID is the inverse of ClientMsgID; ok is false for ids that
// are not this run's.
func (v *Verifier) parseClientMsgID(id string) (s Side, n int, ok bool) {
	rest, found := strings.CutPrefix(id, v.run+"-")
	if !found || len(rest) < 2 {
		return 0, 0, false
	}
	switch rest[0] {
	case 'v':
		s = VisitorSide
	case 'a':
		s = AgentSide
	default:
		return 0, 0, false
	}
	n, err := strconv.Atoi(rest[1:])
	if err != nil || n < 0 {
		return 0, 0, false
	}
	return s, n, true
}

// NewSend allocates side s's next message in this conversation and returns
// its index and client_msg_id. now is the time of the first attempt.
func (l *Ledger) NewSend(s Side, now time.Time) (int, string) {
	l.mu.Lock()
	n := len(l.sent[s])
	l.sent[s] = append(l.sent[s], msgRec{sentAt: now.UnixNano(), attempts: 1})
	l.mu.Unlock()
	return n, l.v.ClientMsgID(s, n)
}

// Retry notes another attempt of a send (after an error or a reconnect).
func (l *Ledger) Retry(s Side, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n < len(l.sent[s]) {
		r := &l.sent[s][n]
		if r.attempts == 1 {
			l.v.Retried.Add(1)
		}
		if r.attempts < 255 {
			r.attempts++
		}
	}
}

// SentAt returns when side s first tried to send its n-th message.
func (l *Ledger) SentAt(s Side, n int) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n >= len(l.sent[s]) {
		return time.Time{}
	}
	return time.Unix(0, l.sent[s][n].sentAt)
}

// Acked records the server's ack of side s's n-th message.
func (l *Ledger) Acked(s Side, n int, seq int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n >= len(l.sent[s]) {
		return
	}
	r := &l.sent[s][n]
	switch {
	case r.ackSeq == 0:
		r.ackSeq = seq
		if r.seq != 0 && r.seq != seq {
			l.v.Mismatched.Add(1)
			l.v.problem("conversation %d: %s message %d delivered as seq %d but acked as seq %d", l.id, s, n, r.seq, seq)
		}
	case r.ackSeq != seq:
		l.v.Duplicates.Add(1)
		l.v.problem("conversation %d: %s message %d acked as seq %d, then again as seq %d (stored twice)", l.id, s, n, r.ackSeq, seq)
	}
	l.advance(s)
}

// Received checks one message frame that side recv's connection got:
// its seq against the stream, and, if the load generator sent it, against
// the send's ack and its earlier deliveries.
func (l *Ledger) Received(recv Side, seq int64, clientMsgID string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recv[recv].observe(l, recv, seq)
	s, n, ok := l.v.parseClientMsgID(clientMsgID)
	if !ok {
		return
	}
	if n >= len(l.sent[s]) {
		l.v.Mismatched.Add(1)
		l.v.problem("conversation %d: %s received %s message %d that was never sent", l.id, recv, s, n)
		return
	}
	r := &l.sent[s][n]
	if !l.started[recv] {
		l.lastN[recv] = [2]int64{-1, -1}
		l.started[recv] = true
	}
	if last := l.lastN[recv][s]; int64(n) < last {
		// Retried sends may legitimately be committed after later ones.
		again := (recv == s && r.echoed > 0) || (recv != s && r.delivered > 0)
		if r.attempts <= 1 && !again {
			l.v.Reordered.Add(1)
			l.v.problem("conversation %d: %s received %s message %d (seq %d) after message %d: committed out of send order", l.id, recv, s, n, seq, last)
		}
	} else {
		l.lastN[recv][s] = int64(n)
	}
	repeat := false
	if recv == s {
		r.echoed++
		repeat = r.echoed > 1
	} else {
		r.delivered++
		repeat = r.delivered > 1
		if !repeat {
			r.seq = seq
			l.v.Delivered.Add(1)
			l.v.Latency[s].RecordValue(now.UnixNano() - r.sentAt)
		} else if seq != r.seq {
			// The same seq twice was counted by the stream; a new seq
			// means the server stored the message twice.
			l.v.Duplicates.Add(1)
			l.v.problem("conversation %d: %s message %d stored twice, as seq %d and seq %d", l.id, s, n, r.seq, seq)
		}
	}
	if !repeat && r.ackSeq != 0 && r.ackSeq != seq {
		l.v.Mismatched.Add(1)
		l.v.problem("conversation %d: %s message %d acked as seq %d but delivered to %s as seq %d", l.id, s, n, r.ackSeq, recv, seq)
	}
	l.advance(s)
}

// LastSeq is the highest seq side recv's connection has seen in order; the
// value to resume from.
func (l *Ledger) LastSeq(recv Side) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.recv[recv].last
}

// advance moves done past completed sends and settles the cut count.
func (l *Ledger) advance(s Side) {
	for l.done[s] < len(l.sent[s]) && l.sent[s][l.done[s]].complete(l.v.echo) {
		l.done[s]++
	}
	if l.cutLeft == nil {
		return
	}
	for l.cutAt[s] < l.cutN[s] && l.sent[s][l.cutAt[s]].complete(l.v.echo) {
		l.cutAt[s]++
		l.cutLeft.Add(-1)
	}
}

// Cut marks now as the instant connections were cut: every send made so
// far counts toward left until it is acked and delivered. Call it on every
// ledger with the same counter; the counter reaches 0 when the messages in
// flight at the cut have all recovered.
func (v *Verifier) Cut(left *atomic.Int64) {
	v.mu.Lock()
	ls := make([]*Ledger, 0, len(v.convs))
	for _, l := range v.convs {
		ls = append(ls, l)
	}
	v.mu.Unlock()
	for _, l := range ls {
		l.mu.Lock()
		l.cutLeft = left
		for s := range 2 {
			l.cutN[s] = len(l.sent[s])
			l.cutAt[s] = l.done[s]
			left.Add(int64(l.cutN[s] - l.cutAt[s]))
			l.advance(Side(s))
		}
		l.mu.Unlock()
	}
}

// Outstanding counts sends not yet complete (acked and delivered).
func (v *Verifier) Outstanding() int64 {
	v.mu.Lock()
	ls := make([]*Ledger, 0, len(v.convs))
	for _, l := range v.convs {
		ls = append(ls, l)
	}
	v.mu.Unlock()
	var n int64
	for _, l := range ls {
		l.mu.Lock()
		for s := range 2 {
			for i := l.done[s]; i < len(l.sent[s]); i++ {
				if !l.sent[s][i].complete(l.v.echo) {
					n++
				}
			}
		}
		l.mu.Unlock()
	}
	return n
}

// Finish settles the books at the end of a run: whatever was acked but
// never delivered, and every seq gap never filled, is lost.
func (v *Verifier) Finish() {
	v.mu.Lock()
	ls := make([]*Ledger, 0, len(v.convs))
	for _, l := range v.convs {
		ls = append(ls, l)
	}
	v.mu.Unlock()
	slices.SortFunc(ls, func(a, b *Ledger) int { return int(a.id - b.id) })
	for _, l := range ls {
		l.mu.Lock()
		for s := range Side(2) {
			for i := l.done[s]; i < len(l.sent[s]); i++ {
				r := &l.sent[s][i]
				switch {
				case r.ackSeq == 0 && r.delivered == 0:
					v.Unacked.Add(1)
				case r.ackSeq == 0:
					// Stored and delivered, but the ack never came back.
					v.Unacked.Add(1)
					v.problem("conversation %d: %s message %d delivered as seq %d but never acked", l.id, s, i, r.seq)
				case r.delivered == 0:
					v.Lost.Add(1)
					v.problem("conversation %d: %s message %d acked as seq %d but never reached the %s", l.id, s, i, r.ackSeq, s.other())
				case v.echo && r.echoed == 0:
					v.Lost.Add(1)
					v.problem("conversation %d: %s message %d (seq %d) never came back to its sender", l.id, s, i, r.ackSeq)
				}
			}
			if g := l.recv[s].missing; len(g) > 0 {
				v.Lost.Add(int64(len(g)))
				v.problem("conversation %d: %s never received seq %s", l.id, s, formatSeqs(g))
			}
		}
		l.mu.Unlock()
	}
}

// seqStream checks that one receiver sees a conversation's seqs 1, 2, 3, …
// exactly once each and in order.
type seqStream struct {
	last    int64   // highest seq seen
	missing []int64 // seqs below last not seen yet, ascending
}

// maxMissing bounds the gap list of one stream; beyond it a gap is
// counted as lost at once.
const maxMissing = 4096

func (st *seqStream) observe(l *Ledger, recv Side, seq int64) {
	switch {
	case seq == st.last+1:
		st.last = seq
	case seq > st.last+1:
		l.v.problem("conversation %d: %s got seq %d after seq %d (gap)", l.id, recv, seq, st.last)
		for s := st.last + 1; s < seq; s++ {
			if len(st.missing) >= maxMissing {
				l.v.Lost.Add(seq - s)
				break
			}
			st.missing = append(st.missing, s)
		}
		st.last = seq
	default:
		if i, found := slices.BinarySearch(st.missing, seq); found {
			st.missing = slices.Delete(st.missing, i, i+1)
			l.v.Reordered.Add(1)
			l.v.problem("conversation %d: %s got seq %d after seq %d (out of order)", l.id, recv, seq, st.last)
			return
		}
		l.v.Duplicates.Add(1)
		l.v.problem("conversation %d: %s got seq %d again (last %d)", l.id, recv, seq, st.last)
	}
}

func formatSeqs(s []int64) string {
	var b strings.Builder
	for i, v := range s {
		if i == 8 {
			fmt.Fprintf(&b, " … (%d in all)", len(s))
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(v, 10))
	}
	return b.String()
}
