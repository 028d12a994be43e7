package httpapi

import (
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/kefu-chat/kefu/internal/files"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// allowedTypes are the content types an upload may have, judged from its
// bytes (files.Disk sniffs them); what the client declares is ignored.
// Anything a browser could run (HTML, SVG, scripts) is absent on purpose.
var allowedTypes = map[string]bool{
	"image/png":       true,
	"image/jpeg":      true,
	"image/gif":       true,
	"image/webp":      true,
	"application/pdf": true,
	"text/plain":      true,
	"application/zip": true,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   true,
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         true,
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": true,
	"application/vnd.oasis.opendocument.text":                                   true,
	"application/vnd.oasis.opendocument.spreadsheet":                            true,
	"application/vnd.oasis.opendocument.presentation":                           true,
}

func mediaType(ctype string) string {
	mt, _, err := mime.ParseMediaType(ctype)
	if err != nil {
		return ""
	}
	return mt
}

// multipartOverhead is the room a multipart body needs beyond the file
// itself: boundaries, part headers, a few small fields.
const multipartOverhead = 64 << 10

// uploadAttachment accepts one file (multipart field "file"), stores it and
// its metadata, and returns the attachment to reference in a message.
func (s *Server) uploadAttachment(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	if ok, after := s.uploads.allow(actorKey(a)); !ok {
		return rateLimited(after)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "multipart/form-data" {
		return kefu.Errorf(kefu.EUnsupported, "Content-Type must be multipart/form-data")
	}
	if r.ContentLength > s.limits.MaxUploadBytes+multipartOverhead {
		return kefu.Errorf(kefu.ETooLarge, "file is larger than %d bytes", s.limits.MaxUploadBytes)
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.limits.MaxUploadBytes+multipartOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		return kefu.Errorf(kefu.EInvalid, "the body is not a valid multipart form")
	}
	for parts := 0; ; parts++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			return kefu.Errorf(kefu.EInvalid, "the form has no \"file\" field")
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return err
			}
			return kefu.Errorf(kefu.EInvalid, "the body is not a valid multipart form")
		}
		if parts >= 8 {
			return kefu.Errorf(kefu.EInvalid, "too many form fields")
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		att, err := s.storeUpload(r, a, part)
		part.Close()
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, att)
		return nil
	}
}

func (s *Server) storeUpload(r *http.Request, a kefu.Actor, part io.Reader) (*kefu.Attachment, error) {
	name := ""
	if p, ok := part.(interface{ FileName() string }); ok {
		name = p.FileName()
	}
	blob, err := s.files.Save(r.Context(), part, s.limits.MaxUploadBytes)
	if err != nil {
		return nil, err
	}
	if !allowedTypes[mediaType(blob.ContentType)] {
		s.deleteBlob(blob.Key)
		return nil, kefu.Errorf(kefu.EUnsupported, "files of type %s are not accepted", mediaType(blob.ContentType))
	}
	att := &kefu.Attachment{WorkspaceID: a.WorkspaceID, UploaderType: a.Type, UploaderID: a.ID, FileName: files.CleanName(name),
		ContentType: blob.ContentType, Size: blob.Size, SHA256: blob.SHA256, StorageKey: blob.Key, CreatedAt: kefu.Now()}
	if err := s.store.CreateAttachment(r.Context(), att); err != nil {
		s.deleteBlob(blob.Key)
		return nil, err
	}
	return att, nil
}

func (s *Server) deleteBlob(key string) {
	if err := s.files.Delete(key); err != nil {
		s.log.Warn("could not delete refused upload", "key", key, "err", err)
	}
}

// downloadAttachment serves an attachment's bytes with the content type
// sniffed at upload. Agents may fetch any attachment of their workspace;
// visitors only their own uploads and files sent in their conversations.
// Non-images are always downloaded, never shown inline.
func (s *Server) downloadAttachment(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	att, err := s.store.GetAttachment(r.Context(), a.WorkspaceID, id)
	if err != nil {
		return err
	}
	if a.IsContact() {
		ok, err := s.visitorMaySee(r, a, att)
		if err != nil {
			return err
		}
		if !ok {
			return kefu.Errorf(kefu.ENotFound, "attachment not found")
		}
	}
	f, err := s.files.Open(att.StorageKey)
	if err != nil {
		return err
	}
	defer f.Close()
	disposition := "attachment"
	if strings.HasPrefix(att.ContentType, "image/") {
		disposition = "inline"
	}
	h := w.Header()
	h.Set("Content-Type", att.ContentType)
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": att.FileName}))
	h.Set("Cache-Control", "private, max-age=86400, immutable")
	h.Set("ETag", strconv.Quote(att.SHA256))
	http.ServeContent(w, r, "", att.CreatedAt, f)
	return nil
}

// maxVisitorScan bounds how many messages one visitor download may look
// through to find the attachment.
const maxVisitorScan = 5000

// visitorMaySee reports whether a visitor may download att: it uploaded
// it, or it was sent (not in a private note) in one of its conversations.
// A message carrying att is newer than att, so only conversations active
// since the upload, and only their messages since then, need a look.
func (s *Server) visitorMaySee(r *http.Request, a kefu.Actor, att *kefu.Attachment) (bool, error) {
	if att.UploaderType == kefu.SenderContact && att.UploaderID == a.ID {
		return true, nil
	}
	ctx := r.Context()
	budget := maxVisitorScan
	f := kefu.ConversationFilter{Limit: maxLimit}
	for {
		convs, err := s.chat.ListConversations(ctx, a, f)
		if err != nil {
			return false, err
		}
		for _, c := range convs {
			if c.LastActivityAt.Before(att.CreatedAt) {
				return false, nil
			}
			before := int64(math.MaxInt64)
			for budget > 0 {
				msgs, err := s.chat.Messages(ctx, a, kefu.MessageRange{ConversationID: c.ID, BeforeSeq: before, Limit: 200})
				if err != nil {
					return false, err
				}
				budget -= len(msgs)
				for i := len(msgs) - 1; i >= 0; i-- {
					m := msgs[i]
					if m.CreatedAt.Before(att.CreatedAt) {
						msgs = nil
						break
					}
					for _, x := range m.Attachments {
						if x.ID == att.ID {
							return true, nil
						}
					}
				}
				if len(msgs) < 200 {
					break
				}
				before = msgs[0].Seq
			}
			if budget <= 0 {
				return false, nil
			}
		}
		if len(convs) < f.Limit {
			return false, nil
		}
		f.After = &kefu.ConversationCursor{LastActivityAt: convs[len(convs)-1].LastActivityAt, ID: convs[len(convs)-1].ID}
	}
}
