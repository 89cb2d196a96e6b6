// Package sample makes the made-up material tipline is shown and measured with, written for
// this project and the same every time: the demo desk's tips (tipline serve --demo), the
// bench's synthetic tips of many gangs (tipline bench --search), and scans of sample letters
// with the damage real scans show (OCR tests, tipline bench --ocr). It depends on no stage:
// whoever submits, classifies or indexes the samples does so with its own package.
package sample
