// Package scrub removes metadata from images (EXIF with its GPS position and camera serial,
// XMP, IPTC, comments, text chunks) without decoding the pixels, so the copy analysts see shows
// the same picture and nothing about the phone or the place it was taken.
package scrub

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// ErrFormat means the bytes are not a well-formed image of the type they claim.
var ErrFormat = errors.New("scrub: malformed image")

// Supported reports whether Image can clean this media type. GIF has no EXIF block, so it is
// passed through unchanged.
func Supported(mediaType string) bool {
	switch mediaType {
	case "image/jpeg", "image/png", "image/webp", "image/gif":
		return true
	}
	return false
}

// Image writes src without its metadata to dst.
func Image(mediaType string, src io.ReadSeeker, dst io.Writer) error {
	switch mediaType {
	case "image/jpeg":
		return jpeg(bufio.NewReader(src), dst)
	case "image/png":
		return png(bufio.NewReader(src), dst)
	case "image/webp":
		return webp(src, dst)
	case "image/gif":
		_, err := io.Copy(dst, src)
		return err
	}
	return fmt.Errorf("scrub: %s not supported", mediaType)
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// JPEG markers kept: APP0 (JFIF), APP2 (ICC colour profile) and APP14 (Adobe colour transform)
// change how the pixels look; every other APPn and COM segment is metadata.
func keepJPEGSegment(marker byte) bool {
	switch {
	case marker == 0xE0, marker == 0xE2, marker == 0xEE:
		return true
	case marker >= 0xE1 && marker <= 0xEF, marker == 0xFE:
		return false
	}
	return true
}

func jpeg(r *bufio.Reader, w io.Writer) error {
	var soi [2]byte
	if _, err := io.ReadFull(r, soi[:]); err != nil || soi != [2]byte{0xFF, 0xD8} {
		return malformed("JPEG without start marker")
	}
	bw := bufio.NewWriter(w)
	bw.Write(soi[:])
	for {
		marker, err := nextMarker(r)
		if err != nil {
			return err
		}
		switch {
		case marker == 0xD9: // EOI: what phones append after it (trailers, motion photos) is dropped
			bw.Write([]byte{0xFF, 0xD9})
			return bw.Flush()
		case marker >= 0xD0 && marker <= 0xD7, marker == 0x01: // no length
			bw.Write([]byte{0xFF, marker})
			continue
		}
		var lb [2]byte
		if _, err := io.ReadFull(r, lb[:]); err != nil {
			return malformed("JPEG segment cut short")
		}
		n := int(binary.BigEndian.Uint16(lb[:]))
		if n < 2 {
			return malformed("JPEG segment length %d", n)
		}
		if !keepJPEGSegment(marker) {
			if _, err := r.Discard(n - 2); err != nil {
				return malformed("JPEG segment cut short")
			}
			continue
		}
		bw.Write([]byte{0xFF, marker})
		bw.Write(lb[:])
		if _, err := io.CopyN(bw, r, int64(n-2)); err != nil {
			return malformed("JPEG segment cut short")
		}
		if marker == 0xDA { // start of scan: entropy-coded data up to the next marker
			if err := copyScan(r, bw); err != nil {
				return err
			}
		}
	}
}

// nextMarker reads a marker, skipping fill bytes.
func nextMarker(r *bufio.Reader) (byte, error) {
	b, err := r.ReadByte()
	if err != nil || b != 0xFF {
		return 0, malformed("JPEG marker expected")
	}
	for {
		b, err = r.ReadByte()
		if err != nil {
			return 0, malformed("JPEG cut short")
		}
		if b != 0xFF {
			return b, nil
		}
	}
}

// copyScan copies entropy-coded bytes, where 0xFF is followed by 0x00 (a stuffed byte) or a
// restart marker, and stops before any other marker.
func copyScan(r *bufio.Reader, w *bufio.Writer) error {
	for {
		pair, err := r.Peek(2)
		if len(pair) < 2 {
			return malformed("JPEG scan cut short: %v", err)
		}
		switch {
		case pair[0] != 0xFF:
			w.WriteByte(pair[0])
			r.Discard(1)
		case pair[1] == 0x00 || pair[1] >= 0xD0 && pair[1] <= 0xD7:
			w.Write(pair)
			r.Discard(2)
		case pair[1] == 0xFF: // fill byte before a marker
			r.Discard(1)
		default:
			return nil // a marker: nextMarker reads it
		}
	}
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// PNG chunks dropped: EXIF, the three text chunks (where tools put XMP, camera and author)
// and the modification time.
var pngDropped = map[string]bool{"eXIf": true, "tEXt": true, "zTXt": true, "iTXt": true, "tIME": true}

func png(r *bufio.Reader, w io.Writer) error {
	sig := make([]byte, len(pngSignature))
	if _, err := io.ReadFull(r, sig); err != nil || !bytes.Equal(sig, pngSignature) {
		return malformed("PNG without signature")
	}
	bw := bufio.NewWriter(w)
	bw.Write(sig)
	for {
		var head [8]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return malformed("PNG ends before IEND")
		}
		n := int64(binary.BigEndian.Uint32(head[:4]))
		if n > 1<<31-1 {
			return malformed("PNG chunk length %d", n)
		}
		typ := string(head[4:8])
		if pngDropped[typ] {
			if _, err := r.Discard(int(n) + 4); err != nil {
				return malformed("PNG chunk %q cut short", typ)
			}
			continue
		}
		bw.Write(head[:])
		crc := crc32.NewIEEE()
		crc.Write(head[4:8])
		if _, err := io.CopyN(io.MultiWriter(bw, crc), r, n); err != nil {
			return malformed("PNG chunk %q cut short", typ)
		}
		var sum [4]byte
		if _, err := io.ReadFull(r, sum[:]); err != nil {
			return malformed("PNG chunk %q cut short", typ)
		}
		if binary.BigEndian.Uint32(sum[:]) != crc.Sum32() {
			return malformed("PNG chunk %q has a wrong checksum", typ)
		}
		bw.Write(sum[:])
		if typ == "IEND" {
			return bw.Flush()
		}
	}
}

// WebP: a RIFF container; EXIF and XMP chunks are dropped and their flags cleared in VP8X.
// The RIFF header carries the total size, so the chunks are listed first and copied second.
func webp(src io.ReadSeeker, w io.Writer) error {
	var head [12]byte
	if _, err := io.ReadFull(src, head[:]); err != nil || string(head[:4]) != "RIFF" || string(head[8:12]) != "WEBP" {
		return malformed("WebP without RIFF header")
	}
	riffEnd := int64(binary.LittleEndian.Uint32(head[4:8])) + 8
	type chunk struct {
		fourCC string
		at     int64 // offset of the payload
		size   int64 // payload, without padding
	}
	var chunks []chunk
	pos := int64(12)
	for pos < riffEnd {
		var ch [8]byte
		if _, err := io.ReadFull(src, ch[:]); err != nil {
			return malformed("WebP chunk header cut short")
		}
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		padded := size + size&1
		chunks = append(chunks, chunk{fourCC: string(ch[:4]), at: pos + 8, size: size})
		pos += 8 + padded
		if pos > riffEnd {
			return malformed("WebP chunk overruns the file")
		}
		if _, err := src.Seek(pos, io.SeekStart); err != nil {
			return err
		}
	}
	if len(chunks) == 0 {
		return malformed("WebP without chunks")
	}
	total := int64(4)
	for _, c := range chunks {
		if c.fourCC != "EXIF" && c.fourCC != "XMP " {
			total += 8 + c.size + c.size&1
		}
	}
	bw := bufio.NewWriter(w)
	bw.Write([]byte("RIFF"))
	binary.Write(bw, binary.LittleEndian, uint32(total))
	bw.Write([]byte("WEBP"))
	for _, c := range chunks {
		if c.fourCC == "EXIF" || c.fourCC == "XMP " {
			continue
		}
		if _, err := src.Seek(c.at, io.SeekStart); err != nil {
			return err
		}
		bw.Write([]byte(c.fourCC))
		binary.Write(bw, binary.LittleEndian, uint32(c.size))
		body := io.Reader(io.LimitReader(src, c.size+c.size&1))
		if c.fourCC == "VP8X" {
			var flags [1]byte
			if _, err := io.ReadFull(body, flags[:]); err != nil {
				return malformed("WebP VP8X cut short")
			}
			bw.WriteByte(flags[0] &^ 0x0C) // EXIF (0x08) and XMP (0x04) present
		}
		n, err := io.Copy(bw, body)
		if err != nil {
			return err
		}
		if want := c.size + c.size&1; c.fourCC != "VP8X" && n != want || c.fourCC == "VP8X" && n != want-1 {
			return malformed("WebP chunk %q cut short", c.fourCC)
		}
	}
	return bw.Flush()
}
