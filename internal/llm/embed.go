package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
)

// MaxEmbedBatch bounds the inputs sent in one embeddings request.
const MaxEmbedBatch = 64

type embedBody struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
}

type embedReply struct {
	Data []struct {
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
	Usage *wireUsage `json:"usage"`
}

// Embed returns one vector per input (POST /v1/embeddings), in input
// order, in batches of MaxEmbedBatch. It retries like Stream.
func (c *Client) Embed(ctx context.Context, model string, inputs []string) ([][]float32, Usage, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, c.cfg.Total, fmt.Errorf("%w: total %s", ErrTimeout, c.cfg.Total))
	defer cancel()
	out := make([][]float32, 0, len(inputs))
	var u Usage
	for start := 0; start < len(inputs); start += MaxEmbedBatch {
		batch := inputs[start:min(start+MaxEmbedBatch, len(inputs))]
		var vecs [][]float32
		var bu Usage
		attempts := 0
		err := c.retry(ctx, &attempts, func(ctx context.Context) (bool, error) {
			var err error
			vecs, bu, err = c.embedOnce(ctx, model, batch)
			return false, err
		})
		if err != nil {
			return nil, u, err
		}
		out = append(out, vecs...)
		u.PromptTokens += bu.PromptTokens
		u.Estimated = u.Estimated || bu.Estimated
	}
	return out, u, nil
}

func (c *Client) embedOnce(ctx context.Context, model string, batch []string) ([][]float32, Usage, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, c.cfg.Connect+c.cfg.FirstToken, fmt.Errorf("%w: embeddings", ErrTimeout))
	defer cancel()
	raw, err := json.Marshal(embedBody{Model: model, Input: batch})
	if err != nil {
		return nil, Usage{}, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/embeddings", bytes.NewReader(raw))
	if err != nil {
		return nil, Usage{}, err
	}
	c.headers(hr)
	hr.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTP.Do(hr)
	if err != nil {
		return nil, Usage{}, causeOr(ctx, err)
	}
	defer resp.Body.Close()
	if err := statusErr(resp); err != nil {
		return nil, Usage{}, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, Usage{}, causeOr(ctx, err)
	}
	var er embedReply
	if err := json.Unmarshal(b, &er); err != nil {
		return nil, Usage{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	vecs := make([][]float32, len(batch))
	dim := -1
	for _, d := range er.Data {
		if d.Index < 0 || d.Index >= len(batch) || vecs[d.Index] != nil || len(d.Embedding) == 0 {
			return nil, Usage{}, fmt.Errorf("%w: bad embedding index %d", ErrMalformed, d.Index)
		}
		if dim >= 0 && len(d.Embedding) != dim {
			return nil, Usage{}, fmt.Errorf("%w: embeddings of different sizes", ErrMalformed)
		}
		dim = len(d.Embedding)
		vecs[d.Index] = d.Embedding
	}
	for i, v := range vecs {
		if v == nil {
			return nil, Usage{}, fmt.Errorf("%w: no embedding for input %d", ErrMalformed, i)
		}
	}
	u := Usage{Estimated: true}
	if er.Usage != nil {
		u = Usage{PromptTokens: er.Usage.PromptTokens}
	} else {
		for _, s := range batch {
			u.PromptTokens += estimateText(s)
		}
	}
	return vecs, u, nil
}

// Cosine is the cosine similarity of a and b (0 when their sizes differ
// or either is zero).
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}
