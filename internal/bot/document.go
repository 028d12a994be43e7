package bot

import (
	"html"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Chunk is one passage of a document.
type Chunk struct {
	Title string
	Text  string
}

// maxChunk bounds a passage: long enough to hold an answer, short enough
// for BM25 length normalisation and a language-model prompt.
const maxChunk = 800

var (
	reScriptStyle = regexp.MustCompile(`(?is)<(script|style|head)[^>]*>.*?</(script|style|head)>`)
	reHeading     = regexp.MustCompile(`(?is)<h[1-6][^>]*>(.*?)</h[1-6]>`)
	reBlock       = regexp.MustCompile(`(?i)</?(p|div|li|ul|ol|br|tr|table|section|article|blockquote|pre)[^>]*>`)
	reTag         = regexp.MustCompile(`(?s)<[^>]*>`)
	reBlankLines  = regexp.MustCompile(`\n\s*\n+`)
)

// HTMLToText turns HTML into plain text with headings kept as Markdown
// headings, so the Markdown splitter can cut it into sections. Tags are
// dropped, never interpreted.
func HTMLToText(s string) string {
	s = reScriptStyle.ReplaceAllString(s, "")
	s = reHeading.ReplaceAllStringFunc(s, func(m string) string {
		inner := reHeading.FindStringSubmatch(m)[1]
		return "\n\n# " + strings.TrimSpace(reTag.ReplaceAllString(inner, "")) + "\n\n"
	})
	s = reBlock.ReplaceAllString(s, "\n\n")
	s = reTag.ReplaceAllString(s, "")
	return html.UnescapeString(s)
}

// SplitDocument cuts a document into passages: by Markdown headings (the
// heading becomes the passage title), then by paragraphs packed up to
// maxChunk bytes. format is "markdown", "text" or "html".
func SplitDocument(format, body string) []Chunk {
	if !utf8.ValidString(body) {
		body = strings.ToValidUTF8(body, "")
	}
	body = strings.ReplaceAll(body, "\r\n", "\n")
	if format == "html" {
		body = HTMLToText(body)
	}
	var out []Chunk
	title := ""
	var paras []string
	flush := func() {
		out = append(out, pack(title, paras)...)
		paras = nil
	}
	for _, p := range reBlankLines.Split(body, -1) {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if format != "text" && strings.HasPrefix(p, "#") {
			head, rest, _ := strings.Cut(p, "\n")
			flush()
			title = strings.TrimSpace(strings.TrimLeft(head, "#"))
			if rest = strings.TrimSpace(rest); rest != "" {
				paras = append(paras, rest)
			}
			continue
		}
		paras = append(paras, p)
	}
	flush()
	return out
}

// pack joins paragraphs into chunks of at most maxChunk bytes, cutting a
// longer paragraph at rune boundaries.
func pack(title string, paras []string) []Chunk {
	var out []Chunk
	var cur strings.Builder
	emit := func() {
		if cur.Len() > 0 {
			out = append(out, Chunk{Title: title, Text: cur.String()})
			cur.Reset()
		}
	}
	for _, p := range paras {
		for len(p) > maxChunk {
			cut := maxChunk
			for cut > 0 && !utf8.RuneStart(p[cut]) {
				cut--
			}
			emit()
			out = append(out, Chunk{Title: title, Text: p[:cut]})
			p = p[cut:]
		}
		if cur.Len() > 0 && cur.Len()+len(p)+2 > maxChunk {
			emit()
		}
		if cur.Len() > 0 {
			cur.WriteString("\n\n")
		}
		cur.WriteString(p)
	}
	emit()
	return out
}

// validText reports whether s is UTF-8 without NUL bytes.
func validText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
