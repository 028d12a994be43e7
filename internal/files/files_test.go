package files

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kefu-chat/kefu/internal/kefu"
)

var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")

func newDisk(t *testing.T) (*Disk, string) {
	t.Helper()
	root := t.TempDir()
	d, err := NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	return d, root
}

func TestSaveOpenRoundTrip(t *testing.T) {
	d, root := newDisk(t)
	data := append(append([]byte{}, pngHeader...), bytes.Repeat([]byte{7}, 4000)...)
	b, err := d.Save(context.Background(), bytes.NewReader(data), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if b.Size != int64(len(data)) || b.SHA256 != hex.EncodeToString(sum[:]) || b.ContentType != "image/png" {
		t.Fatalf("blob = %+v", b)
	}
	if !validKey(b.Key) {
		t.Fatalf("key %q does not validate", b.Key)
	}
	f, err := d.Open(b.Key)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("bytes differ after round trip")
	}
	// Nothing is left in the temp folder.
	if ents, _ := os.ReadDir(filepath.Join(root, "tmp")); len(ents) != 0 {
		t.Fatalf("tmp has %d leftovers", len(ents))
	}
	// Two saves of the same bytes get different keys: deleting one never
	// affects the other.
	b2, err := d.Save(context.Background(), bytes.NewReader(data), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if b2.Key == b.Key {
		t.Fatal("keys repeat")
	}
	if err := d.Delete(b.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Open(b.Key); !kefu.IsNotFound(err) {
		t.Fatalf("open deleted: %v", err)
	}
	if f, err := d.Open(b2.Key); err != nil {
		t.Fatal(err)
	} else {
		f.Close()
	}
}

func TestSaveLimits(t *testing.T) {
	d, root := newDisk(t)
	ctx := context.Background()
	if _, err := d.Save(ctx, strings.NewReader(strings.Repeat("a", 101)), 100); kefu.ErrorCode(err) != kefu.ETooLarge {
		t.Fatalf("over limit: %v", err)
	}
	if b, err := d.Save(ctx, strings.NewReader(strings.Repeat("a", 100)), 100); err != nil || b.Size != 100 {
		t.Fatalf("at limit: %+v %v", b, err)
	}
	if _, err := d.Save(ctx, strings.NewReader(""), 100); kefu.ErrorCode(err) != kefu.EInvalid {
		t.Fatalf("empty: %v", err)
	}
	boom := errors.New("connection reset")
	_, err := d.Save(ctx, io.MultiReader(strings.NewReader("abc"), iotestErr{boom}), 100)
	var re *ReadError
	if !errors.As(err, &re) || !errors.Is(err, boom) {
		t.Fatalf("reader failure: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := d.Save(cctx, strings.NewReader("abc"), 100); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "tmp")); len(ents) != 0 {
		t.Fatalf("failed saves left %d temp files", len(ents))
	}
}

type iotestErr struct{ err error }

func (r iotestErr) Read([]byte) (int, error) { return 0, r.err }

func zipWith(t *testing.T, members map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range members {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSniff(t *testing.T) {
	d, _ := newDisk(t)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"png", pngHeader, "image/png"},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), "image/jpeg"},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), "image/gif"},
		{"webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 "), "image/webp"},
		{"pdf", []byte("%PDF-1.7\n%âãÏÓ\n"), "application/pdf"},
		{"text", []byte("hello, 你好\n"), "text/plain; charset=utf-8"},
		{"html", []byte("<html><script>alert(1)</script></html>"), "text/html; charset=utf-8"},
		{"zip", zipWith(t, map[string]string{"a.txt": "x"}), "application/zip"},
		{"docx", zipWith(t, map[string]string{"[Content_Types].xml": "x", "word/document.xml": "x"}), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"xlsx", zipWith(t, map[string]string{"xl/workbook.xml": "x"}), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"pptx", zipWith(t, map[string]string{"ppt/presentation.xml": "x"}), "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
		{"odt", zipWith(t, map[string]string{"mimetype": "application/vnd.oasis.opendocument.text"}), "application/vnd.oasis.opendocument.text"},
		{"fake zip", []byte("PK\x03\x04garbage that is not a zip archive"), "application/octet-stream"},
		{"elf", []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"), "application/octet-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := d.Save(context.Background(), bytes.NewReader(tt.data), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if b.ContentType != tt.want {
				t.Fatalf("content type = %q, want %q", b.ContentType, tt.want)
			}
		})
	}
}

func TestOpenRejectsForeignKeys(t *testing.T) {
	d, root := newDisk(t)
	os.WriteFile(filepath.Join(root, "secret"), []byte("x"), 0o600)
	for _, key := range []string{"", "secret", "../secret", "ab/../../secret", "/etc/passwd", "ab/ab", "AB/ABCDEF0123456789abcdef0123456789",
		"ab/cdcdef0123456789abcdef0123456789", "ab/abcdef0123456789abcdef012345678g"} {
		if _, err := d.Open(key); !kefu.IsNotFound(err) {
			t.Errorf("Open(%q) = %v, want not_found", key, err)
		}
		if err := d.Delete(key); err != nil {
			t.Errorf("Delete(%q) = %v", key, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "secret")); err != nil {
		t.Fatal("a foreign file was deleted")
	}
}

func TestCleanName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\li\发票.pdf`, "发票.pdf"},
		{"a\"b;c\r\nd.txt", "a_b_c__d.txt"},
		{"evil\u202Etxt.exe", "eviltxt.exe"},
		{"..", "file"},
		{"", "file"},
		{"   ", "file"},
		{".hidden", "hidden"},
		{"\xff\xfe.png", "png"},
	}
	for _, tt := range tests {
		if got := CleanName(tt.in); got != tt.want {
			t.Errorf("CleanName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := strings.Repeat("长", 150) + ".docx"
	got := CleanName(long)
	if len(got) > MaxFileNameLen || !utf8.ValidString(got) || !strings.HasSuffix(got, ".docx") {
		t.Fatalf("long name cleaned to %q (%d bytes)", got, len(got))
	}
}

func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"a.txt", "../x", "\x00\xff", strings.Repeat("é", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := CleanName(in)
		if got == "" || len(got) > MaxFileNameLen || !utf8.ValidString(got) || strings.ContainsAny(got, "/\\\"\r\n\x00") {
			t.Fatalf("CleanName(%q) = %q", in, got)
		}
	})
}
