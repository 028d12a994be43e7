package loadgen

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lxzan/gws"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/protocol"
)

// fakeServer is a minimal Kefu socket: welcome, resume from the URL, send
// with idempotent client_msg_id, and delivery to every connection that
// follows the conversation. It can lose acks, as a dropped connection does.
type fakeServer struct {
	gws.BuiltinEventHandler

	mu       sync.Mutex
	msgs     map[int64][]string    // conversation -> client_msg_id by seq-1
	follow   map[*gws.Conn][]int64 // connection -> conversations it follows
	seqOf    map[string]int64      // conv/client_msg_id -> seq
	dropAcks int                   // acks still to lose
	upgrader *gws.Upgrader
}

func newFakeServer() *fakeServer {
	f := &fakeServer{msgs: map[int64][]string{}, follow: map[*gws.Conn][]int64{}, seqOf: map[string]int64{}}
	f.upgrader = gws.NewUpgrader(f, &gws.ServerOption{})
	return f
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sock, err := f.upgrader.Upgrade(w, r)
	if err != nil {
		return
	}
	f.mu.Lock()
	sock.WriteString(`{"type":"welcome","heartbeat_interval":25,"idle_timeout":60}`)
	var convs []int64
	for pos := range strings.SplitSeq(r.URL.Query().Get("resume"), ",") {
		id, seq, ok := strings.Cut(pos, ":")
		if !ok {
			continue
		}
		conv, _ := strconv.ParseInt(id, 10, 64)
		from, _ := strconv.ParseInt(seq, 10, 64)
		convs = append(convs, conv)
		for s := from + 1; s <= int64(len(f.msgs[conv])); s++ {
			sock.WriteString(f.messageFrame(conv, s))
		}
		sock.WriteString(fmt.Sprintf(`{"type":"resumed","conversation_id":%d,"last_seq":%d}`, conv, len(f.msgs[conv])))
	}
	f.follow[sock] = convs
	f.mu.Unlock()
	go sock.ReadLoop()
}

func (f *fakeServer) messageFrame(conv, seq int64) string {
	return fmt.Sprintf(`{"type":"message","message":{"conversation_id":%d,"seq":%d,"client_msg_id":%q}}`, conv, seq, f.msgs[conv][seq-1])
}

func (f *fakeServer) OnClose(sock *gws.Conn, _ error) {
	f.mu.Lock()
	delete(f.follow, sock)
	f.mu.Unlock()
}

func (f *fakeServer) OnMessage(sock *gws.Conn, m *gws.Message) {
	defer m.Close()
	var fr protocol.ClientFrame
	if json.Unmarshal(m.Bytes(), &fr) != nil || fr.Type != protocol.TypeSend {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := fmt.Sprint(fr.ConversationID, "/", fr.ClientMsgID)
	seq, dup := f.seqOf[key]
	if !dup {
		f.msgs[fr.ConversationID] = append(f.msgs[fr.ConversationID], fr.ClientMsgID)
		seq = int64(len(f.msgs[fr.ConversationID]))
		f.seqOf[key] = seq
	}
	if f.dropAcks > 0 {
		f.dropAcks--
	} else {
		sock.WriteString(fmt.Sprintf(`{"type":"ack","id":%q,"conversation_id":%d,"seq":%d,"client_msg_id":%q,"duplicate":%v}`,
			fr.ID, fr.ConversationID, seq, fr.ClientMsgID, dup))
	}
	if dup {
		return
	}
	for c, convs := range f.follow {
		for _, conv := range convs {
			if conv == fr.ConversationID {
				c.WriteString(f.messageFrame(conv, seq))
			}
		}
	}
}

// receiver checks what one side's connection hears.
type receiver struct {
	v    *Verifier
	side Side
}

func (r receiver) Message(_ *Conn, m *wireMessage, at time.Time) {
	if l := r.v.Lookup(m.ConversationID); l != nil {
		l.Received(r.side, m.Seq, m.ClientMsgID, at)
	}
}
func (receiver) Conversation(*Conn, string, *wireConversation, time.Time) {}

func resumeAt(s Side, ls ...*Ledger) func() []resumePos {
	return func() []resumePos {
		var out []resumePos
		for _, l := range ls {
			out = append(out, resumePos{l.id, l.LastSeq(s)})
		}
		return out
	}
}

// TestConnSendAckCutResume drives the client against the fake server: an
// agent with two conversations (its client_msg_ids repeat across them),
// a lost ack, a cut, a send while down, and resume.
func TestConnSendAckCutResume(t *testing.T) {
	fake := newFakeServer()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	st := newStats()
	p := newPool(t.Context(), base, newDialer(nil, false), st, 4)
	defer p.closeAll()

	v := NewVerifier("t1", true)
	l1, l2 := v.Conv(1), v.Conv(2)
	agent := p.newConn(true, "agent-token", receiver{v, AgentSide}, resumeAt(AgentSide, l1, l2))
	vis1 := p.newConn(false, "v1", receiver{v, VisitorSide}, resumeAt(VisitorSide, l1))
	vis2 := p.newConn(false, "v2", receiver{v, VisitorSide}, resumeAt(VisitorSide, l2))
	for _, c := range []*Conn{agent, vis1, vis2} {
		if err := c.Connect(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	settled := func(what string) {
		t.Helper()
		if err := waitFor(t.Context(), 5*time.Second, func() bool {
			return agent.Up() && agent.Pending() == 0 && vis1.Pending() == 0 && vis2.Pending() == 0 && v.Outstanding() == 0
		}); err != nil {
			t.Fatalf("%s: %v (pending %d/%d/%d, outstanding %d, problems %q)", what, err,
				agent.Pending(), vis1.Pending(), vis2.Pending(), v.Outstanding(), v.Problems())
		}
	}

	// Same client_msg_id ("t1-a0") in two conversations on one connection.
	agent.Send(l1, 32, nil)
	agent.Send(l2, 32, nil)
	vis1.Send(l1, 32, nil)
	vis2.Send(l2, 32, nil)
	settled("first sends")

	// The next ack is lost; the cut makes the client resend, and the
	// server answers with a duplicate ack for the stored message.
	fake.mu.Lock()
	fake.dropAcks = 1
	fake.mu.Unlock()
	agent.Send(l1, 32, nil)
	if err := waitFor(t.Context(), 5*time.Second, func() bool { return l1.LastSeq(VisitorSide) == 3 }); err != nil {
		t.Fatalf("message with the lost ack not delivered: %v", err)
	}
	if agent.Pending() != 1 {
		t.Fatalf("pending = %d, want the send whose ack was lost", agent.Pending())
	}
	agent.Cut()
	agent.Send(l2, 32, nil) // made while the connection is (being) cut
	vis2.Send(l2, 32, nil)
	settled("after the cut")

	if got := st.Cuts.Load(); got != 1 {
		t.Errorf("cuts = %d, want 1", got)
	}
	if got := st.Reconnects.Load(); got != 1 {
		t.Errorf("reconnects = %d, want 1", got)
	}
	if got := st.DuplicateAcks.Load(); got != 1 {
		t.Errorf("duplicate acks = %d, want 1", got)
	}
	v.Finish()
	if got := countsOf(v); got != (counts{}) {
		t.Fatalf("verifier: %+v, problems %q", got, v.Problems())
	}
	if got := v.Delivered.Load(); got != 7 {
		t.Errorf("delivered = %d, want 7", got)
	}
}

func TestClassify(t *testing.T) {
	tests := map[string]string{
		"unexpected status code: 429":                        "HTTP 429",
		"dial tcp 127.0.0.1:41234->127.0.0.1:8080: weird 12": "dial tcp ...:->...:: weird ",
	}
	for in, want := range tests {
		if got := classify(fmt.Errorf("%s", in)); got != want {
			t.Errorf("classify(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestParseFrame reads the frames the server's own encoder writes: in an
// error frame "message" is a string, in a message frame an object, and
// both must decode (a retryable error that failed to decode would leave
// its send unacknowledged).
func TestParseFrame(t *testing.T) {
	f, _, err := parseFrame(protocol.EncodeError("s1", kefu.Errorf(kefu.ERateLimited, "slow down")))
	if err != nil || f.Type != protocol.TypeError || f.ID != "s1" || f.Code != kefu.ERateLimited {
		t.Fatalf("error frame: %+v, %v", f, err)
	}
	f, m, err := parseFrame(protocol.EncodeMessage(&kefu.Message{ID: 7, ConversationID: 3, Seq: 2, SenderType: kefu.SenderAgent,
		SenderID: 9, Kind: kefu.KindText, Body: "hi", ClientMsgID: "c1"}))
	if err != nil || f.Type != protocol.TypeMessage || m == nil || m.ID != 7 || m.ConversationID != 3 || m.Seq != 2 ||
		m.SenderType != "agent" || m.SenderID != 9 || m.ClientMsgID != "c1" {
		t.Fatalf("message frame: %+v %+v, %v", f, m, err)
	}
	f, _, err = parseFrame(protocol.Encode(&protocol.Ack{Type: protocol.TypeAck, ID: "s2", ConversationID: 3, Seq: 5, Duplicate: true}))
	if err != nil || f.Type != protocol.TypeAck || f.ID != "s2" || f.Seq != 5 || !f.Duplicate {
		t.Fatalf("ack frame: %+v, %v", f, err)
	}
	if _, _, err := parseFrame([]byte(`{"type":"message","message":"not an object"}`)); err == nil {
		t.Fatal("a message frame without a message object was accepted")
	}
}
