package email

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParse(t *testing.T) {
	tests := []struct {
		file        string
		subject     string
		text        []string // substrings of the tip text
		notText     []string
		attachments []string // name=media type
		warning     string   // substring of a warning; empty means no warnings
	}{
		{"utf8.eml", "举报裸聊敲诈", []string{"举报裸聊敲诈", "录屏后敲诈我五千元", "2851736490"}, nil, nil, ""},
		{"gb2312.eml", "举报裸聊敲诈", []string{"录屏后敲诈我五千元"}, nil, nil, ""},
		{"gbk.eml", "举报套路贷：砍头息", []string{"714高炮", "镕字也要能读"}, nil, nil, ""},
		{"gb18030.eml", "举报水军", []string{"雇水军控评", "𠮷"}, nil, nil, ""},
		{"big5.eml", "舉報網路水軍", []string{"僱傭水軍在網路上誹謗"}, nil, nil, ""},
		{"html-only.eml", "举报", []string{"催收天天爆通讯录&打电话", "第二段"}, []string{"alert", "color", "不要这个标题", "<"}, nil, ""},
		{"alternative.eml", "举报", []string{"纯文本版本：有偿删帖"}, []string{"网页版本"}, nil, ""},
		{"forwarded.eml", "转发：被敲诈的经过", []string{"请看下面转发的邮件", "转发的邮件", "聊天记录", "不给钱就把视频发给你的亲友"}, nil, []string{"chat.png=image/png"}, ""},
		{"attachments.eml", "举报套路贷APP", []string{"安装包和截图在附件里"}, nil, []string{"截图.jpg=image/jpeg", "速借宝.apk=application/vnd.android.package-archive"}, ""},
		{"nocharset-gbk.eml", "举报催收", []string{"用呼死你打我电话"}, nil, nil, "GB18030"},
		{"wrong-label.eml", "test", []string{"职业打假的人要十倍赔偿"}, nil, nil, "GB18030"},
		{"unknown-charset.eml", "test", []string{"自媒体要公关费"}, nil, nil, "无法识别的字符集"},
		{"missing-boundary.eml", "test", []string{"没有边界的邮件"}, nil, nil, "边界"},
		{"truncated-base64.eml", "test", []string{"催收爆通讯录"}, nil, nil, "解码出错"},
		{"bad-qp.eml", "test", []string{"有人雇水军"}, nil, nil, "解码出错"},
		{"deep.eml", "deep", nil, []string{"从最里面读出来的文字"}, nil, "嵌套超过"},
		{"many-parts.eml", "many", []string{"part 0", "part 400"}, []string{"part 1999"}, nil, "部分超过"},
		{"no-body.eml", "只有标题：裸聊敲诈", []string{"只有标题：裸聊敲诈"}, nil, nil, ""},
		{"header-injection.eml", "标题  Bcc: evil@example.com    注入", []string{"body"}, []string{"\n\nBcc"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := Parse(fixture(t, tt.file), Limits{})
			if p.Subject != tt.subject {
				t.Errorf("subject %q, want %q", p.Subject, tt.subject)
			}
			for _, s := range tt.text {
				if !strings.Contains(p.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, p.Text)
				}
			}
			for _, s := range tt.notText {
				if strings.Contains(p.Text, s) {
					t.Errorf("text contains %q:\n%s", s, p.Text)
				}
			}
			var atts []string
			for _, a := range p.Attachments {
				atts = append(atts, a.Name+"="+a.MediaType)
				if a.Body != nil && int64(len(a.Body)) != a.Size {
					t.Errorf("attachment %s: size %d for %d bytes", a.Name, a.Size, len(a.Body))
				}
			}
			if strings.Join(atts, " ") != strings.Join(tt.attachments, " ") {
				t.Errorf("attachments %v, want %v", atts, tt.attachments)
			}
			warnings := strings.Join(p.Warnings, " | ")
			if tt.warning == "" && warnings != "" || !strings.Contains(warnings, tt.warning) {
				t.Errorf("warnings %q, want one with %q", warnings, tt.warning)
			}
		})
	}
}

func TestParseHeaders(t *testing.T) {
	p := Parse(fixture(t, "utf8.eml"), Limits{})
	if p.From != "张 三 <victim@example.cn>" || p.MessageID == "" || p.Date.IsZero() {
		t.Errorf("from %q id %q date %v", p.From, p.MessageID, p.Date)
	}
}

func TestParseLimits(t *testing.T) {
	big := "From: x@example.cn\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary=\"M\"\r\n\r\n--M\r\nContent-Type: text/plain\r\n\r\n看附件\r\n" +
		"--M\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename=\"big.zip\"\r\n\r\n" + strings.Repeat("x", 3<<20) + "\r\n--M--\r\n"
	p := Parse([]byte(big), Limits{MaxAttachment: 1 << 20})
	if len(p.Attachments) != 1 || p.Attachments[0].Body != nil || p.Attachments[0].Note == "" || !strings.Contains(p.Text, "看附件") {
		t.Errorf("over-limit attachment: %+v, text %q", p.Attachments, p.Text)
	}
	p = Parse([]byte(big), Limits{MaxMessage: 1 << 20})
	if p.Text != "" || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "邮件过大") {
		t.Errorf("over-limit message: %q %v", p.Text, p.Warnings)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"utf8.eml", "forwarded.eml", "attachments.eml", "missing-boundary.eml", "deep.eml"} {
		f.Add(fixture(f, name))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p := Parse(raw, Limits{MaxAttachment: 1 << 16, MaxParts: 50, MaxDepth: 5})
		for _, s := range []string{p.Text, p.Subject, p.From} {
			if !strings.HasPrefix(strings.ToValidUTF8(s, "\uFFFD"), s) {
				t.Fatalf("invalid UTF-8 out: %q", s)
			}
		}
		if strings.ContainsAny(p.Subject, "\r\n") {
			t.Fatalf("subject with line breaks: %q", p.Subject)
		}
	})
}
