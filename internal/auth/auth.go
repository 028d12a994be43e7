// Package auth hashes passwords, mints and checks bearer tokens, and turns a
// token into the kefu.Actor it speaks for.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// HashPassword returns an encoded argon2id hash in the PHC string format.
func HashPassword(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches an encoded hash, in
// constant time with respect to the key.
func CheckPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var mem, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &p); err != nil || mem == 0 || mem > 1<<20 || t == 0 || t > 16 || p == 0 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, mem, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// Token prefixes say what a token is, so a leaked one is recognisable in
// logs and secret scanners.
var prefixes = map[kefu.SessionKind]string{
	kefu.SessionAgent:   "kfa_",
	kefu.SessionVisitor: "kfv_",
	kefu.SessionAPI:     "kfp_",
}

// NewToken returns a fresh random token of the given kind and its hash.
func NewToken(kind kefu.SessionKind) (token, hash string) {
	return newToken(prefixes[kind])
}

// InvitationPrefix starts every invitation token.
const InvitationPrefix = "kfi_"

// NewInvitationToken returns a fresh random invitation token and its hash.
// It is as strong as a session token: whoever holds it can become an agent.
func NewInvitationToken() (token, hash string) { return newToken(InvitationPrefix) }

func newToken(prefix string) (token, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is what the store keeps instead of the token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// RandomString returns n random bytes encoded for URLs: for public inbox
// tokens, secrets and generated passwords.
func RandomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Lifetimes of the tokens we mint.
const (
	AgentSessionTTL   = 30 * 24 * time.Hour
	VisitorSessionTTL = 180 * 24 * time.Hour
	APITokenTTL       = 10 * 365 * 24 * time.Hour
)

// Store is what the authenticator needs from storage.
type Store interface {
	kefu.SessionStore
	GetAgent(ctx context.Context, workspaceID, id int64) (*kefu.Agent, error)
}

// Authenticator resolves bearer tokens to actors.
type Authenticator struct {
	store Store
	now   kefu.Clock
}

func NewAuthenticator(store Store, now kefu.Clock) *Authenticator {
	if now == nil {
		now = time.Now
	}
	return &Authenticator{store: store, now: now}
}

// Issue stores a new session for the actor and returns its token.
func (a *Authenticator) Issue(ctx context.Context, kind kefu.SessionKind, actor kefu.Actor, ttl time.Duration) (string, *kefu.Session, error) {
	token, hash := NewToken(kind)
	now := kefu.Now()
	s := &kefu.Session{WorkspaceID: actor.WorkspaceID, Kind: kind, TokenHash: hash, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if actor.IsContact() {
		s.ContactID, s.InboxID = actor.ID, actor.InboxID
	} else {
		s.AgentID = actor.ID
	}
	if err := a.store.CreateSession(ctx, s); err != nil {
		return "", nil, err
	}
	return token, s, nil
}

// Authenticate checks a token and returns the actor it speaks for. Every
// failure is EUnauthorized with the same text, so probing learns nothing.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (kefu.Actor, *kefu.Session, error) {
	unauth := kefu.Errorf(kefu.EUnauthorized, "missing, invalid or expired token")
	if token == "" || len(token) > 256 {
		return kefu.Actor{}, nil, unauth
	}
	s, err := a.store.GetSessionByTokenHash(ctx, HashToken(token))
	if kefu.IsNotFound(err) {
		return kefu.Actor{}, nil, unauth
	}
	if err != nil {
		return kefu.Actor{}, nil, err
	}
	if !s.Usable(a.now()) {
		return kefu.Actor{}, nil, unauth
	}
	switch s.Kind {
	case kefu.SessionVisitor:
		return kefu.Actor{WorkspaceID: s.WorkspaceID, Type: kefu.SenderContact, ID: s.ContactID, InboxID: s.InboxID, SessionID: s.ID}, s, nil
	case kefu.SessionAgent, kefu.SessionAPI:
		ag, err := a.store.GetAgent(ctx, s.WorkspaceID, s.AgentID)
		if kefu.IsNotFound(err) {
			return kefu.Actor{}, nil, unauth
		}
		if err != nil {
			return kefu.Actor{}, nil, err
		}
		if !ag.Active {
			return kefu.Actor{}, nil, unauth
		}
		return kefu.Actor{WorkspaceID: s.WorkspaceID, Type: kefu.SenderAgent, ID: ag.ID, Role: ag.Role, SessionID: s.ID}, s, nil
	}
	return kefu.Actor{}, nil, unauth
}

// BearerToken extracts the token from an Authorization header value.
func BearerToken(header string) string {
	const p = "Bearer "
	if len(header) > len(p) && strings.EqualFold(header[:len(p)], p) {
		return strings.TrimSpace(header[len(p):])
	}
	return ""
}

// IdentifierHash is the HMAC-SHA256 (hex) a business signs a visitor's
// external id with, using the inbox secret; see docs/widget.md.
func IdentifierHash(secret, identifier string) string {
	return hex.EncodeToString(hmacSHA256([]byte(secret), []byte(identifier)))
}

// CheckIdentifierHash verifies an identifier hash in constant time.
func CheckIdentifierHash(secret, identifier, hash string) bool {
	want := IdentifierHash(secret, identifier)
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(hash))) == 1
}
