package httpapi

import (
	"bytes"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
)

func TestAttachmentUploadDownload(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	tok := e.a.AgentToken

	// The declared type is ignored; the bytes decide.
	r := e.do("POST", "/api/v1/attachments", tok, multipartFile(t, "file", "../../etc/小猫.png", "text/html", pngBytes))
	wantStatus(t, r, 201, "")
	var img kefu.Attachment
	r.into(t, &img)
	if img.ContentType != "image/png" || img.FileName != "小猫.png" || img.Size != int64(len(pngBytes)) || len(img.SHA256) != 64 ||
		img.UploaderType != kefu.SenderAgent || img.UploaderID != e.a.Agent.ID {
		t.Fatalf("attachment %s", r)
	}
	if strings.Contains(r.String(), "storage_key") {
		t.Fatal("storage key exposed")
	}
	r = e.do("GET", fmt.Sprintf("/api/v1/attachments/%d", img.ID), tok, nil)
	wantStatus(t, r, 200, "")
	if !bytes.Equal(r.Body, pngBytes) || r.Header.Get("Content-Type") != "image/png" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("download headers %v", r.Header)
	}
	disp, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
	if err != nil || disp != "inline" || params["filename"] != "小猫.png" {
		t.Fatalf("Content-Disposition %q", r.Header.Get("Content-Disposition"))
	}
	// Ranges work (resumable downloads, media seeking).
	r = e.do("GET", fmt.Sprintf("/api/v1/attachments/%d", img.ID), tok, nil, "Range", "bytes=0-7")
	wantStatus(t, r, 206, "")
	if !bytes.Equal(r.Body, pngBytes[:8]) {
		t.Fatalf("range body %q", r.Body)
	}

	// Non-images are always downloads.
	r = e.do("POST", "/api/v1/attachments", tok, multipartFile(t, "file", "notes\".txt", "", []byte("plain words\n")))
	wantStatus(t, r, 201, "")
	var txt kefu.Attachment
	r.into(t, &txt)
	r = e.do("GET", fmt.Sprintf("/api/v1/attachments/%d", txt.ID), tok, nil)
	disp, params, _ = mime.ParseMediaType(r.Header.Get("Content-Disposition"))
	if disp != "attachment" || params["filename"] != "notes_.txt" || r.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("text download: %v", r.Header)
	}

	// An attachment-only message (no body) carries it.
	r = e.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", e.a.Conversation.ID), tok,
		map[string]any{"kind": "attachment", "attachments": []int64{img.ID, txt.ID}})
	wantStatus(t, r, 201, "")
	var sent sendMessageResponse
	r.into(t, &sent)
	if len(sent.Message.Attachments) != 2 || sent.Message.Attachments[0].ID != img.ID {
		t.Fatalf("message attachments %s", r)
	}
	// The visitor of that conversation can now fetch both.
	for _, id := range []int64{img.ID, txt.ID} {
		wantStatus(t, e.do("GET", fmt.Sprintf("/api/v1/widget/attachments/%d", id), e.a.VisitorToken, nil), 200, "")
	}
}

func TestAttachmentRefusals(t *testing.T) {
	e := newEnv(t, openSQLite(t)) // MaxUploadBytes is 64 KiB in tests
	tok := e.a.AgentToken
	tests := []struct {
		name   string
		body   rawBody
		status int
		code   string
	}{
		{"html", multipartFile(t, "file", "page.png", "image/png", []byte("<!DOCTYPE html><script>alert(1)</script>")), 415, "unsupported_media_type"},
		{"svg", multipartFile(t, "file", "logo.svg", "image/svg+xml", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)), 415, "unsupported_media_type"},
		{"executable", multipartFile(t, "file", "setup.pdf", "application/pdf", append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 100)...)), 415, "unsupported_media_type"},
		{"elf", multipartFile(t, "file", "a.txt", "", []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00")), 415, "unsupported_media_type"},
		{"over the limit", multipartFile(t, "file", "big.txt", "", bytes.Repeat([]byte("a"), 64<<10+1)), 413, "too_large"},
		{"far over the limit", multipartFile(t, "file", "huge.txt", "", bytes.Repeat([]byte("a"), 1<<20)), 413, "too_large"},
		{"empty file", multipartFile(t, "file", "empty.txt", "", nil), 400, "invalid"},
		{"no file field", multipartFile(t, "upload", "a.txt", "", []byte("x")), 400, "invalid"},
		{"not multipart", rawBody{"application/octet-stream", pngBytes}, 415, "unsupported_media_type"},
		{"multipart without boundary", rawBody{"multipart/form-data", pngBytes}, 400, "invalid"},
		{"broken multipart", rawBody{"multipart/form-data; boundary=xyz", []byte("--xyz\r\nnonsense")}, 400, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantStatus(t, e.do("POST", "/api/v1/attachments", tok, tt.body), tt.status, tt.code)
			wantStatus(t, e.do("POST", "/api/v1/widget/attachments", e.a.VisitorToken, tt.body), tt.status, tt.code)
		})
	}
	// A file exactly at the limit is fine.
	wantStatus(t, e.do("POST", "/api/v1/attachments", tok, multipartFile(t, "file", "max.txt", "", bytes.Repeat([]byte("a"), 64<<10))), 201, "")
	// Refused uploads leave no bytes behind: one blob (the one above) on disk.
	n := 0
	filepath.WalkDir(e.files.Root(), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	if n != 1 {
		t.Fatalf("%d files on disk, want 1", n)
	}
	// Ids: bad ones are invalid, absent ones not found.
	wantStatus(t, e.do("GET", "/api/v1/attachments/x", tok, nil), 400, "invalid")
	wantStatus(t, e.do("GET", "/api/v1/attachments/424242", tok, nil), 404, "not_found")
}
