package httpapi

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-chat/kefu/internal/bot"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// llmView is the workspace's language-model settings as the API shows
// them: the API key is write-only, only whether one is stored shows.
type llmView struct {
	*kefu.LLMSettings
	APIKeySet bool `json:"api_key_set"`
}

func (s *Server) llmProvider() (*bot.LLMProvider, error) {
	if s.llm == nil || s.llm.Box == nil {
		return nil, kefu.Errorf(kefu.EUnavailable, "the language model is not enabled on this server")
	}
	return s.llm, nil
}

func (s *Server) getLLMSettings(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	ls, err := s.store.GetLLMSettings(r.Context(), a.WorkspaceID)
	if kefu.IsNotFound(err) {
		ls, err = &kefu.LLMSettings{WorkspaceID: a.WorkspaceID}, nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, llmView{ls, len(ls.APIKeyEnc) > 0})
	return nil
}

type llmRequest struct {
	Enabled        bool   `json:"enabled"`
	BaseURL        string `json:"base_url"`
	Model          string `json:"model"`
	EmbeddingModel string `json:"embedding_model"`
	// APIKey: absent keeps the stored key, "" removes it.
	APIKey               *string `json:"api_key"`
	Grounded             bool    `json:"grounded"`
	SystemPrompt         string  `json:"system_prompt"`
	Temperature          float64 `json:"temperature"`
	MaxTokens            int     `json:"max_tokens"`
	TimeoutMS            int     `json:"timeout_ms"`
	DailyTokenCap        int64   `json:"daily_token_cap"`
	PromptPricePer1K     float64 `json:"prompt_price_per_1k"`
	CompletionPricePer1K float64 `json:"completion_price_per_1k"`
}

// Limits on language-model settings.
const (
	maxSystemPrompt = 4000
	maxAPIKeyLen    = 512
	maxModelLen     = 200
)

func (q *llmRequest) validate() error {
	q.BaseURL = strings.TrimSpace(q.BaseURL)
	q.Model, q.EmbeddingModel = strings.TrimSpace(q.Model), strings.TrimSpace(q.EmbeddingModel)
	if q.BaseURL != "" {
		u, err := url.Parse(q.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return kefu.Errorf(kefu.EInvalid, "base_url must be an http or https URL without credentials, query or fragment")
		}
		if len(q.BaseURL) > 500 {
			return kefu.Errorf(kefu.EInvalid, "base_url is longer than 500 bytes")
		}
	}
	if q.Enabled && (q.BaseURL == "" || q.Model == "") {
		return kefu.Errorf(kefu.EInvalid, "base_url and model are required to enable the language model")
	}
	for field, v := range map[string]string{"model": q.Model, "embedding_model": q.EmbeddingModel} {
		if err := checkText(field, v, maxModelLen, false); err != nil {
			return err
		}
	}
	if err := checkText("system_prompt", q.SystemPrompt, maxSystemPrompt, true); err != nil {
		return err
	}
	if q.APIKey != nil {
		if err := checkText("api_key", *q.APIKey, maxAPIKeyLen, false); err != nil {
			return err
		}
	}
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	switch {
	case !finite(q.Temperature) || q.Temperature < 0 || q.Temperature > 2:
		return kefu.Errorf(kefu.EInvalid, "temperature must be between 0 and 2")
	case q.MaxTokens < 0 || q.MaxTokens > 32768:
		return kefu.Errorf(kefu.EInvalid, "max_tokens must be between 0 (server default) and 32768")
	case q.TimeoutMS < 0 || q.TimeoutMS > 120_000:
		return kefu.Errorf(kefu.EInvalid, "timeout_ms must be between 0 (default) and 120000")
	case q.DailyTokenCap < 0:
		return kefu.Errorf(kefu.EInvalid, "daily_token_cap must be 0 (no cap) or positive")
	case !finite(q.PromptPricePer1K) || !finite(q.CompletionPricePer1K) || q.PromptPricePer1K < 0 || q.CompletionPricePer1K < 0:
		return kefu.Errorf(kefu.EInvalid, "prices must be 0 or positive")
	}
	return nil
}

func (s *Server) putLLMSettings(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	p, err := s.llmProvider()
	if err != nil {
		return err
	}
	var req llmRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	old, err := s.store.GetLLMSettings(r.Context(), a.WorkspaceID)
	if kefu.IsNotFound(err) {
		old, err = &kefu.LLMSettings{}, nil
	}
	if err != nil {
		return err
	}
	ls := &kefu.LLMSettings{WorkspaceID: a.WorkspaceID, Enabled: req.Enabled, BaseURL: req.BaseURL, Model: req.Model,
		EmbeddingModel: req.EmbeddingModel, APIKeyEnc: old.APIKeyEnc, Grounded: req.Grounded, SystemPrompt: req.SystemPrompt,
		Temperature: req.Temperature, MaxTokens: req.MaxTokens, TimeoutMS: req.TimeoutMS, DailyTokenCap: req.DailyTokenCap,
		PromptPricePer1K: req.PromptPricePer1K, CompletionPricePer1K: req.CompletionPricePer1K}
	if req.APIKey != nil {
		ls.APIKeyEnc = nil
		if k := strings.TrimSpace(*req.APIKey); k != "" {
			if ls.APIKeyEnc, err = p.Box.Seal([]byte(k), bot.KeyAD(a.WorkspaceID)); err != nil {
				return err
			}
		}
	}
	ls.UpdatedAt = s.now().UTC()
	if err := s.store.PutLLMSettings(r.Context(), ls); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, llmView{ls, len(ls.APIKeyEnc) > 0})
	return nil
}

// getLLMUsage lists the last ?days= days (1..92, default 7) of tokens and
// cost, newest first, with their totals.
func (s *Server) getLLMUsage(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	days := 7
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 92 {
			return kefu.Errorf(kefu.EInvalid, "days must be a whole number from 1 to 92")
		}
		days = n
	}
	var cap int64
	if ls, err := s.store.GetLLMSettings(r.Context(), a.WorkspaceID); err == nil {
		cap = ls.DailyTokenCap
	} else if !kefu.IsNotFound(err) {
		return err
	}
	today := s.now().UTC()
	total := kefu.LLMUsage{WorkspaceID: a.WorkspaceID}
	data := make([]*kefu.LLMUsage, 0, days)
	for i := range days {
		u, err := s.store.GetLLMUsage(r.Context(), a.WorkspaceID, bot.Day(today.Add(-time.Duration(i)*24*time.Hour)))
		if err != nil {
			return err
		}
		data = append(data, u)
		total.Requests += u.Requests
		total.PromptTokens += u.PromptTokens
		total.CompletionTokens += u.CompletionTokens
		total.Cost += u.Cost
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "total": total, "daily_token_cap": cap,
		"cap_reached": cap > 0 && data[0].PromptTokens+data[0].CompletionTokens >= cap})
	return nil
}
