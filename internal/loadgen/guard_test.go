package loadgen

import (
	"context"
	"net"
	"strings"
	"testing"
)

func TestCheckTarget(t *testing.T) {
	tests := []struct {
		url         string
		allowRemote bool
		ok          bool
	}{
		{"http://127.0.0.1:8080", false, true},
		{"http://127.1.2.3:8080/", false, true},
		{"http://localhost:8080", false, true},
		{"http://LOCALHOST", false, true},
		{"http://[::1]:8080", false, true},
		{"https://127.0.0.1", false, true},
		{"http://[::ffff:127.0.0.1]:80", false, true},
		{"http://10.0.0.1:8080", false, false},
		{"http://128.0.0.1:8080", false, false},
		{"http://0.0.0.0:8080", false, false},
		{"http://[::2]:8080", false, false},
		{"http://example.com", false, false},
		{"http://localhost.example.com", false, false},
		{"http://127.0.0.1.nip.io", false, false},
		{"http://10.0.0.1:8080", true, true},
		{"http://example.com", true, true},
		{"ftp://127.0.0.1", false, false},
		{"127.0.0.1:8080", false, false},
		{"http://", false, false},
	}
	for _, tt := range tests {
		_, err := checkTarget(tt.url, tt.allowRemote)
		if (err == nil) != tt.ok {
			t.Errorf("checkTarget(%q, allowRemote=%v) = %v, want ok=%v", tt.url, tt.allowRemote, err, tt.ok)
		}
	}
}

func TestParseSourceAddrs(t *testing.T) {
	got, err := parseSourceAddrs(" 127.0.0.2, 127.0.0.3,,", false)
	if err != nil || len(got) != 2 || got[1].String() != "127.0.0.3" {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := parseSourceAddrs("192.168.1.1", false); err == nil {
		t.Error("accepted a non-loopback source address")
	}
	if _, err := parseSourceAddrs("nope", true); err == nil {
		t.Error("accepted a non-IP source address")
	}
}

func TestDialerRefusesRemotePeer(t *testing.T) {
	d := newDialer(nil, false)
	// 192.0.2.1 is TEST-NET-1: the guard must refuse before any packet leaves.
	_, err := d.DialContext(context.Background(), "tcp", "192.0.2.1:80")
	if err == nil || !strings.Contains(err.Error(), "non-loopback") {
		t.Fatalf("dial to 192.0.2.1: err = %v, want a refusal", err)
	}
}

func TestDialerUsesSourceAddrs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	srcs, _ := parseSourceAddrs("127.0.0.2,127.0.0.3", false)
	d := newDialer(srcs, false)
	seen := map[string]bool{}
	for range 4 {
		c, err := d.DialContext(context.Background(), "tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		seen[c.LocalAddr().(*net.TCPAddr).IP.String()] = true
		c.Close()
	}
	if !seen["127.0.0.2"] || !seen["127.0.0.3"] || len(seen) != 2 {
		t.Errorf("source addresses used: %v", seen)
	}
}
