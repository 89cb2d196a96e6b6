package email

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset" // registers GB2312/GBK/GB18030/Big5 and the rest
	"golang.org/x/net/html"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Limits bound the work one message can cause.
type Limits struct {
	MaxMessage    int64 // bytes of a whole message; larger ones are archived but not parsed (default 64 MiB)
	MaxAttachment int64 // bytes of one attachment to extract; larger ones stay in the archived original (default 25 MiB)
	MaxDepth      int   // nesting of multiparts and forwarded messages (default 10)
	MaxParts      int   // parts read in one message (default 500)
	MaxText       int   // bytes of text kept for the tip (default 1 MiB)
}

func (l Limits) withDefaults() Limits {
	l.MaxMessage = cmp.Or(l.MaxMessage, 64<<20)
	l.MaxAttachment = cmp.Or(l.MaxAttachment, 25<<20)
	l.MaxDepth = cmp.Or(l.MaxDepth, 10)
	l.MaxParts = cmp.Or(l.MaxParts, 500)
	l.MaxText = cmp.Or(l.MaxText, 1<<20)
	return l
}

// Parsed is what tipline reads from one message. From is reporter data: it goes only into the
// archive, never into logs, Kafka or the index.
type Parsed struct {
	MessageID   string
	Subject     string
	Date        time.Time
	From        string // display name and address, as decoded
	Text        string // subject, body text and the text of forwarded messages
	Attachments []Part
	Warnings    []string // in Chinese, for the analyst
}

// Part is an attachment (or an inline image) extracted from a message.
type Part struct {
	Name      string
	MediaType string
	Body      []byte // nil when the part was too large to extract
	Size      int64
	Note      string // why Body is nil, in Chinese
}

// Parse reads a raw message. It never fails: whatever cannot be read becomes a warning, so
// every message becomes a tip with what could be read.
func Parse(raw []byte, lim Limits) *Parsed {
	lim = lim.withDefaults()
	p := &parser{lim: lim, out: &Parsed{}}
	if int64(len(raw)) > lim.MaxMessage {
		p.warn(fmt.Sprintf("邮件过大（%d MB），未解析正文；原始邮件已存档。", len(raw)>>20))
		return p.out
	}
	p.message(raw, 0, true)
	p.out.Text = strings.TrimSpace(p.text.String())
	if len(p.out.Text) > lim.MaxText {
		cut := lim.MaxText
		for cut > 0 && !utf8.RuneStart(p.out.Text[cut]) {
			cut--
		}
		p.out.Text = p.out.Text[:cut]
		p.warn("正文过长，只保留了开头部分；原始邮件已存档。")
	}
	return p.out
}

type parser struct {
	lim   Limits
	out   *Parsed
	text  strings.Builder
	parts int
}

func (p *parser) warn(w string) {
	for _, old := range p.out.Warnings {
		if old == w {
			return
		}
	}
	p.out.Warnings = append(p.out.Warnings, w)
}

var words = &mime.WordDecoder{CharsetReader: charset.Reader}

// headerText decodes a header: RFC 2047 words in any charset, and raw 8-bit GBK that some
// clients send without encoding.
func (p *parser) headerText(h message.Header, key string) string {
	v := h.Get(key)
	if v == "" {
		return ""
	}
	dec, err := words.DecodeHeader(v)
	if err != nil {
		p.warn(fmt.Sprintf("邮件头 %s 的编码有误，按原样读取。", key))
		dec = v
	}
	return cleanLine(p.repair(dec, "邮件头 "+key))
}

// cleanLine removes control characters, so that a header cannot smuggle lines into the text.
func cleanLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// repair returns valid UTF-8: bytes that are not UTF-8 but decode cleanly as GB18030 (a missing
// or wrong charset label, common with Chinese mail clients) are decoded; anything else invalid is
// replaced.
func (p *parser) repair(s, where string) string {
	if utf8.ValidString(s) {
		return s
	}
	if dec, err := simplifiedchinese.GB18030.NewDecoder().String(s); err == nil && !strings.ContainsRune(dec, utf8.RuneError) {
		p.warn(where + "不是有效的 UTF-8，已按 GB18030 解码。")
		return dec
	}
	p.warn(where + "含有无法识别的字节，已替换。")
	return strings.ToValidUTF8(s, "\uFFFD")
}

// message reads one message (the top level or a forwarded one).
func (p *parser) message(raw []byte, depth int, top bool) {
	e, err := message.Read(bytes.NewReader(raw))
	if e == nil {
		p.warn("邮件头无法解析，正文按原样读取。")
		p.text.WriteString(p.repair(string(raw), "邮件"))
		return
	}
	if err != nil {
		p.entityWarning(err)
	}
	subject := p.headerText(e.Header, "Subject")
	if top {
		p.out.Subject = subject
		p.out.MessageID = strings.Trim(strings.TrimSpace(e.Header.Get("Message-Id")), "<>")
		p.out.From = p.headerText(e.Header, "From")
		if d, err := mail.ParseDate(e.Header.Get("Date")); err == nil {
			p.out.Date = d
		}
	} else {
		p.text.WriteString("\n\n—— 转发的邮件 ——\n")
	}
	if subject != "" {
		p.text.WriteString(subject)
		p.text.WriteString("\n\n")
	}
	p.entity(e, depth)
}

func (p *parser) entityWarning(err error) {
	switch {
	case message.IsUnknownCharset(err):
		p.warn("邮件声明了无法识别的字符集，已尝试按 UTF-8 或 GB18030 读取。")
	case message.IsUnknownEncoding(err):
		p.warn("邮件使用了无法识别的传输编码，内容按原样读取。")
	default:
		p.warn("邮件格式有误：" + err.Error())
	}
}

// entity reads one MIME entity: multiparts recursively, text into the tip's text, the rest as
// attachments.
func (p *parser) entity(e *message.Entity, depth int) {
	p.parts++
	if p.parts > p.lim.MaxParts {
		p.warn(fmt.Sprintf("邮件部分超过 %d 个，其余部分未解析；原始邮件已存档。", p.lim.MaxParts))
		return
	}
	if depth > p.lim.MaxDepth {
		p.warn(fmt.Sprintf("邮件嵌套超过 %d 层，更深的部分未解析；原始邮件已存档。", p.lim.MaxDepth))
		return
	}
	mediaType, params, _ := e.Header.ContentType()
	if mediaType == "" {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") && params["boundary"] == "" {
		p.warn("多部分邮件缺少边界（boundary），正文按原样读取。")
	} else if mr := e.MultipartReader(); mr != nil {
		p.multipart(mr, mediaType, depth)
		return
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	name := attachmentName(params, dparams)
	body, truncated, err := readLimited(e.Body, p.lim.MaxAttachment)
	if err != nil {
		p.warn("部分内容解码出错（如 base64 或 quoted-printable 损坏），已保留能读出的部分。")
	}
	switch {
	case mediaType == "message/rfc822" && !truncated:
		p.message(body, depth+1, false)
		return
	case (mediaType == "text/plain" || mediaType == "text/html" || strings.HasPrefix(mediaType, "multipart/")) && disp != "attachment" && !truncated:
		text := p.repair(string(body), "正文")
		if strings.EqualFold(e.Header.Get("Content-Transfer-Encoding"), "quoted-printable") && badQP(text) {
			// Go's decoder passes malformed escapes through rather than failing.
			p.warn("部分内容解码出错（quoted-printable 有误），已保留能读出的部分。")
		}
		if mediaType == "text/html" {
			text = htmlText(text)
		}
		p.text.WriteString(strings.TrimSpace(text))
		p.text.WriteString("\n")
		return
	}
	part := Part{Name: name, MediaType: mediaType, Body: body, Size: int64(len(body))}
	if truncated {
		part.Body = nil
		part.Size = -1
		part.Note = fmt.Sprintf("附件超过 %d MB，未单独提取；可在存档的原始邮件中查看。", p.lim.MaxAttachment>>20)
		p.warn(part.Note)
	}
	p.out.Attachments = append(p.out.Attachments, part)
}

// multipart reads the parts; of a multipart/alternative only the best text version is kept.
func (p *parser) multipart(mr message.MultipartReader, mediaType string, depth int) {
	var alternatives []*bytes.Buffer
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && part == nil {
			p.warn("多部分邮件的结构有误，已读取到出错之前的部分。")
			break
		}
		if err != nil {
			p.entityWarning(err)
		}
		if mediaType != "multipart/alternative" {
			p.entity(part, depth+1)
			continue
		}
		// Read each alternative apart, then keep the plain text if there is one.
		sub := &parser{lim: p.lim, out: &Parsed{}, parts: p.parts}
		sub.entity(part, depth+1)
		p.parts = sub.parts
		p.out.Attachments = append(p.out.Attachments, sub.out.Attachments...)
		for _, w := range sub.out.Warnings {
			p.warn(w)
		}
		ct, _, _ := part.Header.ContentType()
		b := bytes.NewBufferString(sub.text.String())
		if ct == "text/plain" {
			alternatives = append([]*bytes.Buffer{b}, alternatives...)
		} else {
			alternatives = append(alternatives, b)
		}
		if p.parts > p.lim.MaxParts {
			break
		}
	}
	for _, a := range alternatives {
		if strings.TrimSpace(a.String()) != "" {
			p.text.WriteString(a.String())
			return
		}
	}
}

func attachmentName(params, dparams map[string]string) string {
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if dec, err := words.DecodeHeader(name); err == nil {
		name = dec
	}
	name = path.Base(strings.ReplaceAll(cleanLine(strings.ToValidUTF8(name, "")), "\\", "/"))
	if name == "." || name == "/" {
		return ""
	}
	return name
}

// badQP spots an escape a lenient quoted-printable decoder left in the text: "=" followed by
// something other than two hex digits.
func badQP(s string) bool {
	for i := strings.IndexByte(s, '='); i >= 0; i = strings.IndexByte(s, '=') {
		rest := s[i+1:]
		if len(rest) < 2 || !isHex(rest[0]) || !isHex(rest[1]) {
			return true
		}
		s = rest
	}
	return false
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' || 'a' <= c && c <= 'f' }

// readLimited reads at most limit bytes; truncated reports a body beyond that.
func readLimited(r io.Reader, limit int64) (body []byte, truncated bool, err error) {
	body, err = io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(body)) > limit {
		return body[:limit], true, nil
	}
	return body, false, err
}

// htmlText turns an HTML body into text: script and style dropped, block elements as line
// breaks, entities decoded.
func htmlText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return collapse(b.String())
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title", "noscript", "template":
				skip++
			case "br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "hr":
				b.WriteByte('\n')
			case "td", "th":
				b.WriteByte(' ')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title", "noscript", "template":
				if skip > 0 {
					skip--
				}
			case "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote":
				b.WriteByte('\n')
			}
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		}
	}
}

// collapse trims each line and drops runs of blank lines.
func collapse(s string) string {
	var out []string
	blank := false
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := strings.Join(strings.Fields(sc.Text()), " ")
		if line == "" {
			if !blank && len(out) > 0 {
				out = append(out, "")
			}
			blank = true
			continue
		}
		blank = false
		out = append(out, line)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
