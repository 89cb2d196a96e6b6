package scrub

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	stdjpeg "image/jpeg"
	stdpng "image/png"
	"testing"

	xwebp "golang.org/x/image/webp"
)

// secret stands for what metadata gives away: GPS position, camera serial, owner's name.
const secret = "GPS 24.3264N 109.4281E serial SN-8827 owner 韦秀兰"

func testImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for y := range 16 {
		for x := range 16 {
			img.Set(x, y, color.RGBA{uint8(x * 16), uint8(y * 16), 90, 255})
		}
	}
	return img
}

func jpegWithMetadata(t *testing.T) []byte {
	var plain bytes.Buffer
	if err := stdjpeg.Encode(&plain, testImage(), nil); err != nil {
		t.Fatal(err)
	}
	seg := func(marker byte, payload string) []byte {
		b := []byte{0xFF, marker, 0, 0}
		binary.BigEndian.PutUint16(b[2:], uint16(len(payload)+2))
		return append(b, payload...)
	}
	var out bytes.Buffer
	out.Write(plain.Bytes()[:2])
	out.Write(seg(0xE1, "Exif\x00\x00"+secret))                     // EXIF
	out.Write(seg(0xE1, "http://ns.adobe.com/xap/1.0/\x00"+secret)) // XMP
	out.Write(seg(0xED, "Photoshop 3.0\x00"+secret))                // IPTC
	out.Write(seg(0xFE, secret))                                    // comment
	out.Write(plain.Bytes()[2:])
	out.WriteString("MotionPhoto trailer " + secret) // after EOI
	return out.Bytes()
}

func pngChunk(typ, data string) []byte {
	b := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(b, uint32(len(data)))
	copy(b[4:], typ)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

func pngWithMetadata(t *testing.T) []byte {
	var plain bytes.Buffer
	if err := stdpng.Encode(&plain, testImage()); err != nil {
		t.Fatal(err)
	}
	p := plain.Bytes()
	iend := bytes.LastIndex(p, []byte("IEND")) - 4
	var out bytes.Buffer
	out.Write(p[:iend])
	out.Write(pngChunk("eXIf", "MM\x00*"+secret))
	out.Write(pngChunk("tEXt", "Author\x00"+secret))
	out.Write(pngChunk("iTXt", "XML:com.adobe.xmp\x00\x00\x00\x00\x00"+secret))
	out.Write(p[iend:])
	return out.Bytes()
}

// A 1x1 lossless WebP, wrapped in the extended format with EXIF and XMP chunks.
func webpWithMetadata(t *testing.T) []byte {
	simple, _ := base64.StdEncoding.DecodeString("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
	vp8l := simple[12:]
	chunk := func(fourCC, data string) []byte {
		b := []byte(fourCC)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
		b = append(b, data...)
		if len(data)%2 == 1 {
			b = append(b, 0)
		}
		return b
	}
	vp8x := chunk("VP8X", "\x0c\x00\x00\x00\x00\x00\x00\x00\x00\x00") // EXIF|XMP flags, 1x1
	body := append(append(append(vp8x, vp8l...), chunk("EXIF", "MM\x00*"+secret)...), chunk("XMP ", secret+"!")...)
	out := []byte("RIFF")
	out = binary.LittleEndian.AppendUint32(out, uint32(4+len(body)))
	out = append(out, "WEBP"...)
	return append(out, body...)
}

func TestImageDropsMetadataKeepsPicture(t *testing.T) {
	tests := []struct {
		mediaType string
		in        []byte
		decode    func([]byte) (image.Image, error)
	}{
		{"image/jpeg", jpegWithMetadata(t), func(b []byte) (image.Image, error) { return stdjpeg.Decode(bytes.NewReader(b)) }},
		{"image/png", pngWithMetadata(t), func(b []byte) (image.Image, error) { return stdpng.Decode(bytes.NewReader(b)) }},
		{"image/webp", webpWithMetadata(t), func(b []byte) (image.Image, error) { return xwebp.Decode(bytes.NewReader(b)) }},
	}
	for _, tc := range tests {
		t.Run(tc.mediaType, func(t *testing.T) {
			if !bytes.Contains(tc.in, []byte(secret)) {
				t.Fatal("fixture lacks the metadata")
			}
			before, err := tc.decode(tc.in)
			if err != nil {
				t.Fatalf("fixture does not decode: %v", err)
			}
			var out bytes.Buffer
			if err := Image(tc.mediaType, bytes.NewReader(tc.in), &out); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(out.Bytes(), []byte("SN-8827")) || bytes.Contains(out.Bytes(), []byte("GPS")) {
				t.Fatal("metadata survived")
			}
			after, err := tc.decode(out.Bytes())
			if err != nil {
				t.Fatalf("cleaned image does not decode: %v", err)
			}
			if !samePixels(before, after) {
				t.Fatal("pixels changed")
			}
			if tc.mediaType == "image/webp" {
				if size := binary.LittleEndian.Uint32(out.Bytes()[4:8]); int(size) != out.Len()-8 {
					t.Fatalf("RIFF size %d for %d bytes", size, out.Len())
				}
				if flags := out.Bytes()[20]; flags&0x0C != 0 {
					t.Fatalf("VP8X still announces EXIF/XMP: %#x", flags)
				}
			}
		})
	}
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				return false
			}
		}
	}
	return true
}

func TestImageRefusesMalformed(t *testing.T) {
	jp := jpegWithMetadata(t)
	pn := pngWithMetadata(t)
	wp := webpWithMetadata(t)
	badCRC := bytes.Clone(pn)
	badCRC[bytes.Index(badCRC, []byte("IDAT"))+6] ^= 0xFF
	overrun := bytes.Clone(wp)
	binary.LittleEndian.PutUint32(overrun[bytes.Index(overrun, []byte("XMP "))+4:], 0x7FFFFFF0)
	tests := []struct {
		name, mediaType string
		in              []byte
	}{
		{"jpeg cut in the scan", "image/jpeg", jp[:len(jp)/2]},
		{"jpeg without SOI", "image/jpeg", jp[2:]},
		{"not a jpeg", "image/jpeg", []byte("MZ\x90\x00 this is a PE header")},
		{"png cut short", "image/png", pn[:len(pn)-10]},
		{"png bad checksum", "image/png", badCRC},
		{"webp chunk overruns", "image/webp", overrun},
		{"webp truncated", "image/webp", wp[:30]},
	}
	for _, tc := range tests {
		if err := Image(tc.mediaType, bytes.NewReader(tc.in), &bytes.Buffer{}); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func FuzzImage(f *testing.F) {
	t := &testing.T{}
	f.Add("image/jpeg", jpegWithMetadata(t))
	f.Add("image/png", pngWithMetadata(t))
	f.Add("image/webp", webpWithMetadata(t))
	f.Fuzz(func(t *testing.T, mediaType string, in []byte) {
		var out bytes.Buffer
		if err := Image(mediaType, bytes.NewReader(in), &out); err != nil {
			return
		}
		if mediaType != "image/gif" && out.Len() > len(in)+16 {
			t.Fatalf("output %d bytes from %d", out.Len(), len(in))
		}
	})
}
