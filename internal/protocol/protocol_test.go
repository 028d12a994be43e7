package protocol

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

func TestDecode(t *testing.T) {
	cases := []struct {
		name, in, code string
	}{
		{"send", `{"type":"send","conversation_id":7,"body":"hi","client_msg_id":"x"}`, ""},
		{"send defaults kind", `{"type":"send","conversation_id":7,"body":"hi"}`, ""},
		{"note", `{"type":"send","conversation_id":7,"kind":"note","body":"n"}`, ""},
		{"attachment only", `{"type":"send","conversation_id":7,"kind":"attachment","attachments":[1]}`, ""},
		{"ping", `{"type":"ping"}`, ""},
		{"typing", `{"type":"typing","conversation_id":1,"on":true}`, ""},
		{"read", `{"type":"read","conversation_id":1,"seq":3}`, ""},
		{"presence", `{"type":"presence","status":"away"}`, ""},
		{"resume", `{"type":"resume","conversations":{"7":12}}`, ""},
		{"subscribe all", `{"type":"subscribe","all":true}`, ""},
		{"empty", ``, EBadJSON},
		{"array", `[1]`, EBadJSON},
		{"broken", `{"type":`, EBadJSON},
		{"wrong field type", `{"type":"send","conversation_id":"7"}`, EBadJSON},
		{"no type", `{}`, EUnknownType},
		{"unknown type", `{"type":"launch_missiles"}`, EUnknownType},
		{"send without conversation", `{"type":"send","body":"x"}`, kefu.EInvalid},
		{"blank body", `{"type":"send","conversation_id":1,"body":"  \n"}`, kefu.EInvalid},
		{"event kind", `{"type":"send","conversation_id":1,"kind":"event","body":"x"}`, kefu.EInvalid},
		{"long body", `{"type":"send","conversation_id":1,"body":"` + strings.Repeat("a", kefu.MaxBodyLen+1) + `"}`, kefu.ETooLarge},
		{"long id", `{"type":"ping","id":"` + strings.Repeat("i", MaxIDLen+1) + `"}`, kefu.EInvalid},
		{"read without seq", `{"type":"read","conversation_id":1}`, kefu.EInvalid},
		{"bad presence", `{"type":"presence","status":"asleep"}`, kefu.EInvalid},
		{"bad resume key", `{"type":"resume","conversations":{"x":1}}`, kefu.EInvalid},
		{"negative resume seq", `{"type":"resume","conversations":{"1":-1}}`, kefu.EInvalid},
		{"empty resume", `{"type":"resume"}`, kefu.EInvalid},
		{"too big", `{"type":"ping","pad":"` + strings.Repeat("p", MaxFrameSize) + `"}`, kefu.ETooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode([]byte(c.in))
			if got := codeOf(err); got != c.code {
				t.Fatalf("code %q, want %q (err %v)", got, c.code, err)
			}
		})
	}
}

func codeOf(err error) string {
	if err == nil {
		return ""
	}
	return kefu.ErrorCode(err)
}

// FuzzDecode: whatever arrives, Decode returns a frame or a classified
// error, never panics, and a frame it accepts re-validates.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"type":"send","conversation_id":7,"body":"你好"}`, `{"type":"resume","conversations":{"1":2}}`, `{"type":"ping"}`, `{`, `null`, `{"type":"send","conversation_id":1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := Decode(data)
		if err != nil {
			if code := kefu.ErrorCode(err); code == kefu.EInternal {
				t.Fatalf("unclassified error %v for %q", err, data)
			}
			return
		}
		if err := fr.Validate(); err != nil {
			t.Fatalf("accepted frame fails validation again: %v", err)
		}
		if fr.Type == TypeSend && (fr.ConversationID <= 0 || len(fr.Body) > kefu.MaxBodyLen) {
			t.Fatalf("accepted bad send %+v", fr)
		}
	})
}

func TestServerFramesMatchTheDocs(t *testing.T) {
	at := time.Date(2026, 11, 23, 8, 0, 0, 123456000, time.UTC)
	got := string(Encode(&Ack{Type: TypeAck, ID: "r1", ConversationID: 7, MessageID: 301, Seq: 13, ClientMsgID: "c", CreatedAt: at}))
	want := `{"type":"ack","id":"r1","conversation_id":7,"message_id":301,"seq":13,"client_msg_id":"c","duplicate":false,"created_at":"2026-11-23T08:00:00.123456Z"}`
	if got != want {
		t.Fatalf("ack\n got %s\nwant %s", got, want)
	}
	m := &kefu.Message{ID: 1, WorkspaceID: 1, ConversationID: 7, Seq: 13, SenderType: kefu.SenderContact, SenderID: 42, Kind: kefu.KindText, Body: "<b>hi</b>", Attachments: []kefu.Attachment{}, CreatedAt: at}
	var back MessageFrame
	if err := json.Unmarshal(EncodeMessage(m), &back); err != nil || back.Message.Body != "<b>hi</b>" || back.Type != TypeMessage {
		t.Fatalf("message frame round trip: %+v %v", back, err)
	}
	e := string(EncodeError("x", kefu.Errorf(kefu.ENotFound, "conversation not found")))
	if e != `{"type":"error","id":"x","code":"not_found","message":"conversation not found"}` {
		t.Fatalf("error frame %s", e)
	}
	if e := string(EncodeError("", errTest{})); !strings.Contains(e, `"code":"internal","message":"internal error"`) {
		t.Fatalf("internal detail leaked: %s", e)
	}
}

type errTest struct{}

func (errTest) Error() string { return "secret database detail" }

func BenchmarkDecodeSend(b *testing.B) {
	frame := []byte(`{"type":"send","id":"r1","conversation_id":12345,"client_msg_id":"4f1c2a9e-3b7d-4c55-9e8f-0a1b2c3d4e5f","body":"Hello, I would like to know where my order is, number 2026112200017."}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeMessage(b *testing.B) {
	m := &kefu.Message{ID: 99, WorkspaceID: 1, ConversationID: 12345, Seq: 42, SenderType: kefu.SenderAgent, SenderID: 3, Kind: kefu.KindText,
		Body: "Your order 2026112200017 left our warehouse this morning.", Attachments: []kefu.Attachment{}, ClientMsgID: "4f1c2a9e", CreatedAt: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		EncodeMessage(m)
	}
}
