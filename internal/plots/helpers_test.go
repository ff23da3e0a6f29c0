package plots

import (
	"bytes"
	"image"
	"image/png"
	"testing"
	"time"
)

// wantW, wantH are the pixel size of every chart: 8in × 4in at 96 DPI.
const wantW, wantH = 768, 384

// decodePNG decodes data and checks its size.
func decodePNG(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG (%d bytes): %v", len(data), err)
	}
	if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
		t.Fatalf("image is %dx%d, want %dx%d", b.Dx(), b.Dy(), wantW, wantH)
	}
	return img
}

// redPixels counts pixels of the marks' red (no line colour is red).
func redPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 > 180 && g>>8 < 80 && bl>>8 < 80 {
				n++
			}
		}
	}
	return n
}

// coloredPixels counts pixels that are not white or grey.
func coloredPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if max(r, g, bl)-min(r, g, bl) > 0x2000 {
				n++
			}
		}
	}
	return n
}

// days returns n consecutive dates from 2024-01-01.
func days(n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = time.Date(2024, 1, 1+i, 0, 0, 0, 0, time.UTC)
	}
	return out
}

// wave returns n positive values that go up and down.
func wave(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = 100 + float64(i%7)*3 - float64(i%3)
	}
	return out
}
