package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefutest"
)

// buildKefu compiles the real binary once per test run.
var buildKefu = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "kefu-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "kefu")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/kefu-chat/kefu/cmd/kefu")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

type process struct {
	cmd *exec.Cmd
	url string
	ws  string
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startProcess(t *testing.T, dataDir, addr string, env ...string) *process {
	t.Helper()
	bin, err := buildKefu()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "KEFU_LISTEN="+addr, "KEFU_DATA_DIR="+dataDir, "KEFU_ADMIN_EMAIL="+adminEmail, "KEFU_ADMIN_PASSWORD="+adminPassword, "KEFU_LOG_LEVEL=warn", "KEFU_WIDGET_RATE=100000", "KEFU_WIDGET_BURST=10000")
	cmd.Env = append(cmd.Env, env...)
	logf, _ := os.Create(filepath.Join(t.TempDir(), "kefu.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, url: "http://" + addr, ws: "ws://" + addr}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("kefu did not become ready; log in %s", logf.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAckedMessagesSurviveSIGKILL sends messages from many connections at
// once, kills the server with SIGKILL in the middle of the flow, restarts
// it on the same data and checks that every message that was acknowledged
// is there, with seqs still gap-free.
func TestAckedMessagesSurviveSIGKILL(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SIGKILL semantics tested on Linux")
	}
	dir, addr := t.TempDir(), freePort(t)
	p := startProcess(t, dir, addr)
	s := &server{t: t, URL: p.url, WS: p.ws}
	agentTok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(agentTok)
	const convs, senders = 20, 16
	var ids []int64
	for i := 0; i < convs; i++ {
		ids = append(ids, s.startConversation(s.visitorSession(inbox, "")))
	}
	clients := make([]*kefutest.WSClient, senders)
	for i := range clients {
		clients[i] = s.dial("/ws/agent", agentTok, "")
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				conv := ids[(i+n)%convs]
				if c.TrySend(map[string]any{"type": "send", "conversation_id": conv, "client_msg_id": fmt.Sprintf("c%d-%d", i, n), "body": "load " + strconv.Itoa(n)}) != nil {
					return // the server is gone
				}
				if n%50 == 49 {
					time.Sleep(40 * time.Millisecond) // stay under the agent frame rate
				}
			}
		}()
	}
	// Let acks pile up, then kill mid-flight.
	deadline := time.Now().Add(20 * time.Second)
	for countAcks(clients) < 2000 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	close(stop)
	wg.Wait()
	time.Sleep(100 * time.Millisecond) // let the last frames land in the clients' buffers
	acked := map[string]int64{}        // client_msg_id -> seq
	for _, c := range clients {
		for _, f := range c.Frames() {
			if f.Type() == "ack" {
				acked[f["client_msg_id"].(string)] = f.Int("seq")
			}
		}
	}
	if len(acked) < 100 {
		t.Fatalf("only %d acks before the kill; the test did not load the server", len(acked))
	}

	p2 := startProcess(t, dir, addr)
	s2 := &server{t: t, URL: p2.url, WS: p2.ws}
	agentTok = s2.login(adminEmail, adminPassword)
	stored := map[string]bool{}
	total := 0
	for _, conv := range ids {
		after := int64(0)
		for {
			out := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d/messages?after_seq=%d&limit=200", s2.URL, conv, after), agentTok, nil)
			data := out["data"].([]any)
			for _, d := range data {
				m := d.(map[string]any)
				if num(m["seq"]) != after+1 {
					t.Fatalf("conversation %d: seq %d follows %d", conv, num(m["seq"]), after)
				}
				after = num(m["seq"])
				if id, ok := m["client_msg_id"].(string); ok {
					stored[id] = true
				}
				total++
			}
			if len(data) < 200 {
				break
			}
		}
	}
	lost := 0
	for id := range acked {
		if !stored[id] {
			lost++
			if lost < 10 {
				t.Errorf("acknowledged message %s lost", id)
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged messages lost after SIGKILL", lost, len(acked))
	}
	t.Logf("%d messages acknowledged before SIGKILL, all present; %d stored in total", len(acked), total)
}

func countAcks(cs []*kefutest.WSClient) int {
	n := 0
	for _, c := range cs {
		for _, f := range c.Frames() {
			if f.Type() == "ack" {
				n++
			}
		}
	}
	return n
}
