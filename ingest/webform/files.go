package webform

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"

	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/scrub"
	"github.com/tipline/tipline/internal/tip"
)

// What kinds of evidence the form takes, told apart by content, never by the name.
type kind string

const (
	kindImage kind = "image"
	kindAudio kind = "audio"
	kindVideo kind = "video"
	kindPDF   kind = "pdf"
	kindAPK   kind = "apk"
	kindText  kind = "text"
)

var kindNames = map[kind]string{kindImage: "图片", kindAudio: "录音", kindVideo: "视频", kindPDF: "PDF 文档", kindAPK: "APK 安装包", kindText: "文本"}

// extKinds are what a file's extension promises.
var extKinds = map[string]kind{
	".jpg": kindImage, ".jpeg": kindImage, ".jfif": kindImage, ".png": kindImage, ".gif": kindImage, ".webp": kindImage, ".bmp": kindImage,
	".mp3": kindAudio, ".m4a": kindAudio, ".aac": kindAudio, ".amr": kindAudio, ".wav": kindAudio, ".ogg": kindAudio, ".oga": kindAudio, ".flac": kindAudio, ".opus": kindAudio,
	".mp4": kindVideo, ".mov": kindVideo, ".3gp": kindVideo, ".webm": kindVideo, ".avi": kindVideo, ".mkv": kindVideo, ".flv": kindVideo, ".m4v": kindVideo,
	".pdf": kindPDF, ".apk": kindAPK, ".txt": kindText, ".log": kindText, ".csv": kindText,
}

// Programs are refused whatever they are called: an analyst would open them.
var executables = map[string]bool{
	"application/vnd.microsoft.portable-executable": true, "application/x-elf": true, "application/x-executable": true,
	"application/x-sharedlib": true, "application/x-mach-binary": true, "application/x-ms-installer": true,
	"application/x-java-applet": true, "application/x-ms-shortcut": true, "application/vnd.debian.binary-package": true,
	"application/x-rpm": true, "text/x-shellscript": true, "text/javascript": true, "application/x-ms-htmlhelp": true,
}

const accepted = "可以上传：图片（JPG、PNG、WebP、GIF）、录音、视频、PDF、APK 安装包和文本（.txt）。"

// sniff decides from the first bytes what a file is, and whether the form takes it.
func sniff(name string, head []byte) (kind, string, *rejection) {
	m := mimetype.Detect(head)
	mt, _, _ := strings.Cut(m.String(), ";")
	for p := m; p != nil; p = p.Parent() {
		if executables[p.String()] {
			return "", "", reject(http.StatusUnsupportedMediaType, reasonFileType, "文件“%s”实际上是可执行程序，不能上传。%s", name, accepted)
		}
	}
	ext := strings.ToLower(path.Ext(name))
	var k kind
	switch {
	case mt == "image/heic" || mt == "image/heic-sequence" || mt == "image/heif" || mt == "image/avif":
		return "", "", reject(http.StatusUnsupportedMediaType, reasonFileType,
			"照片“%s”是 HEIC/HEIF 格式，暂不能接收。请截图后上传截图，或在手机“设置 → 相机 → 格式”中选择“兼容性最佳”后重新拍摄。", name)
	case scrub.Supported(mt) || mt == "image/bmp":
		k = kindImage
	case strings.HasPrefix(mt, "audio/") || mt == "application/ogg":
		k = kindAudio
	case strings.HasPrefix(mt, "video/"):
		k = kindVideo
	case mt == "application/pdf":
		k = kindPDF
	case mt == "application/vnd.android.package-archive":
		k = kindAPK
	case (mt == "application/zip" || mt == "application/java-archive") && ext == ".apk":
		// An APK lists its manifest wherever its builder put it, often past what is sniffed.
		k, mt = kindAPK, "application/vnd.android.package-archive"
	case mt == "text/plain":
		k, mt = kindText, "text/plain; charset=utf-8"
	default:
		return "", "", reject(http.StatusUnsupportedMediaType, reasonFileType, "文件“%s”的类型（%s）不能接收。%s", name, mt, accepted)
	}
	// Audio and video share containers (an .m4a is an MP4), so either may carry the other.
	media := func(k kind) bool { return k == kindAudio || k == kindVideo }
	if want, known := extKinds[ext]; known && want != k && !(media(want) && media(k)) {
		return "", "", reject(http.StatusUnsupportedMediaType, reasonFileType,
			"文件“%s”的内容是%s，与文件名（%s）不符；请检查后重新选择。", name, kindNames[k], kindNames[want])
	}
	return k, mt, nil
}

var errFileTooLarge = errors.New("webform: file over the limit")

// capped passes at most left bytes, then fails, so a file over the limit is never stored.
type capped struct {
	r    io.Reader
	left int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errFileTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, errFileTooLarge
	}
	return n, err
}

// storeFile streams one uploaded file into the batch after checking what it is; images get a
// second copy without their metadata for analysts.
func (s *Server) storeFile(ctx context.Context, b *archive.Batch, p io.Reader, fileName string) (tip.Attachment, *rejection) {
	name := cleanName(fileName)
	br := bufio.NewReaderSize(p, 4096)
	head, err := br.Peek(3072)
	if err != nil && !errors.Is(err, io.EOF) {
		return tip.Attachment{}, s.readProblem(err)
	}
	if len(head) == 0 {
		return tip.Attachment{}, reject(http.StatusBadRequest, reasonFileType, "文件“%s”是空的，请重新选择。", name)
	}
	k, mt, rej := sniff(name, head)
	if rej != nil {
		return tip.Attachment{}, rej
	}
	store := b.Put
	if k == kindImage {
		store = b.PutFile // the OCR stage reads images as files, and the clean copy is made from it
	}
	obj, err := store(ctx, &capped{r: br, left: s.limits.MaxFile})
	switch {
	case errors.Is(err, errFileTooLarge):
		return tip.Attachment{}, reject(http.StatusRequestEntityTooLarge, reasonTooLarge,
			"文件“%s”超过单个文件 %d MB 的上限；可以压缩或剪短后再上传。", name, s.limits.MaxFile>>20)
	case errors.Is(err, context.Canceled):
		return tip.Attachment{}, reject(http.StatusBadRequest, reasonAborted, "上传中断，请重新提交。")
	case err != nil:
		var tooLarge *http.MaxBytesError
		var over *overBudget
		if errors.As(err, &tooLarge) || errors.As(err, &over) {
			return tip.Attachment{}, s.readProblem(err)
		}
		if strings.Contains(err.Error(), "multipart") || errors.Is(err, io.ErrUnexpectedEOF) {
			return tip.Attachment{}, s.readProblem(err)
		}
		s.log.Error("upload not stored", "err", err)
		return tip.Attachment{}, reject(http.StatusServiceUnavailable, reasonUnavailable, unavailable)
	}
	a := tip.Attachment{Name: name, MediaType: mt, Size: obj.Size, SHA256: obj.SHA256, Ref: obj.Ref}
	if k == kindImage && scrub.Supported(mt) {
		clean, err := s.cleanCopy(ctx, b, obj.SHA256, mt)
		if errors.Is(err, scrub.ErrFormat) {
			return tip.Attachment{}, reject(http.StatusBadRequest, reasonFileType, "图片“%s”已损坏或不完整，请重新截图或拍照后上传。", name)
		}
		if err != nil {
			s.log.Error("clean copy not stored", "err", err)
			return tip.Attachment{}, reject(http.StatusServiceUnavailable, reasonUnavailable, unavailable)
		}
		clean.Name = name
		a.Clean = &clean
	}
	return a, nil
}

// cleanCopy stores the image again without its metadata, read from the batch (where it waits
// until the tip is committed).
func (s *Server) cleanCopy(ctx context.Context, b *archive.Batch, sha, mediaType string) (tip.Attachment, error) {
	rc, err := b.Open(ctx, sha)
	if err != nil {
		return tip.Attachment{}, err
	}
	defer rc.Close()
	src, ok := rc.(io.ReadSeeker)
	if !ok {
		return tip.Attachment{}, fmt.Errorf("webform: archived image %s cannot seek", sha)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(scrub.Image(mediaType, src, pw)) }()
	obj, err := b.PutFile(ctx, pr)
	pr.CloseWithError(io.ErrClosedPipe) // lets the writer finish if PutFile stopped early
	if err != nil {
		return tip.Attachment{}, err
	}
	return tip.Attachment{MediaType: mediaType, Size: obj.Size, SHA256: obj.SHA256, Ref: obj.Ref}, nil
}

// cleanName keeps the last element of what the browser says the file was called, without
// control characters, at most 120 characters: analysts see it, and it must not smuggle paths.
func cleanName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, name)
	if r := []rune(name); len(r) > 120 {
		name = string(r[len(r)-120:])
	}
	if name == "" || name == "." || name == "/" {
		return "未命名文件"
	}
	return name
}
