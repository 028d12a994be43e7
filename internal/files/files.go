// Package files keeps attachment bytes on the local disk. Keys are random
// and server-chosen, so nothing a client sends (least of all a file name)
// ever becomes part of a path. The metadata (name, type, owner) lives in the
// store; this package only knows bytes.
package files

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// Blob describes bytes that Save stored.
type Blob struct {
	Key         string // opaque, e.g. "3f/3fa9…"; give it back to Open
	Size        int64
	SHA256      string // hex
	ContentType string // sniffed from the bytes, never taken from the client
}

// Disk stores blobs as files under a root folder, two levels deep
// ("ab/abcdef…") so no folder grows huge.
type Disk struct {
	root string
}

// NewDisk uses (creating if needed) root for blob storage.
func NewDisk(root string) (*Disk, error) {
	if root == "" {
		return nil, errors.New("files: root folder is required")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(abs, "tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("files: create %s: %w", abs, err)
	}
	return &Disk{root: abs}, nil
}

// Root is the folder blobs live under.
func (d *Disk) Root() string { return d.root }

// Save copies r to disk, refusing more than maxBytes (a kefu ETooLarge
// error), and returns the new blob's key, size, digest and sniffed content
// type. The bytes are fsynced before Save returns, so metadata committed
// afterwards never points at a missing file. A partial write leaves nothing
// behind.
func (d *Disk) Save(ctx context.Context, r io.Reader, maxBytes int64) (Blob, error) {
	tmp, err := os.CreateTemp(filepath.Join(d.root, "tmp"), "upload-*")
	if err != nil {
		return Blob{}, fmt.Errorf("files: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	h := sha256.New()
	w := io.MultiWriter(tmp, h)
	// Read one byte past the limit to tell "exactly maxBytes" from "more".
	src := &ctxReader{ctx: ctx, r: io.LimitReader(r, maxBytes+1)}
	n, err := io.Copy(w, src)
	if src.err != nil {
		return Blob{}, &ReadError{Err: src.err}
	}
	if err != nil {
		return Blob{}, fmt.Errorf("files: write upload: %w", err)
	}
	if n > maxBytes {
		return Blob{}, kefu.Errorf(kefu.ETooLarge, "file is larger than %d bytes", maxBytes)
	}
	if n == 0 {
		return Blob{}, kefu.Errorf(kefu.EInvalid, "file is empty")
	}
	ctype, err := sniff(tmp, n)
	if err != nil {
		return Blob{}, fmt.Errorf("files: sniff: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return Blob{}, fmt.Errorf("files: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Blob{}, fmt.Errorf("files: close: %w", err)
	}
	key := newKey()
	dst := d.path(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return Blob{}, fmt.Errorf("files: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return Blob{}, fmt.Errorf("files: %w", err)
	}
	keep = true
	syncDir(filepath.Dir(dst))
	return Blob{Key: key, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), ContentType: ctype}, nil
}

// Open returns the blob's bytes. An unknown or malformed key is ENotFound.
func (d *Disk) Open(key string) (io.ReadSeekCloser, error) {
	if !validKey(key) {
		return nil, kefu.Errorf(kefu.ENotFound, "file not found")
	}
	f, err := os.Open(d.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, kefu.Errorf(kefu.ENotFound, "file not found")
	}
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	return f, nil
}

// Delete removes a blob, e.g. one whose type was refused after upload.
// Deleting a missing blob is not an error.
func (d *Disk) Delete(key string) error {
	if !validKey(key) {
		return nil
	}
	if err := os.Remove(d.path(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("files: %w", err)
	}
	return nil
}

func (d *Disk) path(key string) string { return filepath.Join(d.root, filepath.FromSlash(key)) }

const keyBytes = 16

func newKey() string {
	b := make([]byte, keyBytes)
	if _, err := rand.Read(b); err != nil {
		panic("files: crypto/rand failed: " + err.Error())
	}
	h := hex.EncodeToString(b)
	return h[:2] + "/" + h
}

// validKey accepts exactly what newKey produces, so a key read back from
// the database can never climb out of the root.
func validKey(key string) bool {
	if len(key) != 3+2*keyBytes || key[2] != '/' || key[:2] != key[3:5] {
		return false
	}
	for _, c := range key[3:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

// ReadError reports that the source reader failed (the client went away,
// or its body broke a limit), as opposed to a fault on our disk.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return "files: read upload: " + e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// ctxReader stops a copy when the context ends and remembers read errors so
// Save can tell them from write errors.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
	err error
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		c.err = err
		return 0, err
	}
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// Office formats that are ZIP containers, told apart by a member only they
// have. OpenDocument files name their type in a "mimetype" member instead.
var zipKinds = []struct{ member, ctype string }{
	{"word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	{"xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
	{"ppt/presentation.xml", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
}

var openDocument = map[string]bool{
	"application/vnd.oasis.opendocument.text":         true,
	"application/vnd.oasis.opendocument.spreadsheet":  true,
	"application/vnd.oasis.opendocument.presentation": true,
}

// sniff classifies the bytes: http.DetectContentType for the first 512
// bytes, refined for ZIP containers by looking inside them.
func sniff(f *os.File, size int64) (string, error) {
	head := make([]byte, 512)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	ctype := http.DetectContentType(head[:n])
	if ctype != "application/zip" {
		return ctype, nil
	}
	zr, err := zip.NewReader(f, size)
	if err != nil {
		// Looks like a ZIP at the start but is not one: call it what it is.
		return "application/octet-stream", nil
	}
	for _, zf := range zr.File {
		if zf.Name == "mimetype" && zf.UncompressedSize64 < 100 {
			rc, err := zf.Open()
			if err == nil {
				b, _ := io.ReadAll(bufio.NewReader(io.LimitReader(rc, 100)))
				rc.Close()
				if t := strings.TrimSpace(string(b)); openDocument[t] {
					return t, nil
				}
			}
		}
	}
	for _, k := range zipKinds {
		for _, zf := range zr.File {
			if zf.Name == k.member {
				return k.ctype, nil
			}
		}
	}
	return ctype, nil
}

// MaxFileNameLen bounds a stored file name, in bytes.
const MaxFileNameLen = 200

// CleanName turns a client-supplied file name into one safe to store and
// to show in a Content-Disposition header: the last path element only, no
// control or quoting characters, valid UTF-8, bounded length. It never
// returns an empty string.
func CleanName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), r == '"', r == '\'', r == ';', r == '%', r == '*', r == '<', r == '>', r == '|', r == ':', r == '?':
			return '_'
		case unicode.Is(unicode.Cf, r): // bidi overrides and other invisible format characters
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(strings.Trim(name, ". "))
	if len(name) > MaxFileNameLen {
		cut := MaxFileNameLen
		ext := filepath.Ext(name)
		if len(ext) < 16 && utf8.ValidString(ext) {
			cut -= len(ext)
		} else {
			ext = ""
		}
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut] + ext
	}
	if name == "" {
		return "file"
	}
	return name
}
