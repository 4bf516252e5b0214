package export

import "bytes"

// PDFBox and PDFLayout expose, to the tests only, where WritePDF placed
// every piece of text.
type PDFBox = pdfBox

func PDFLayout(d *Doc) ([]PDFBox, error) {
	var boxes []PDFBox
	pdfHook = func(p *pdfWriter) { boxes = p.boxes }
	defer func() { pdfHook = nil }()
	var buf bytes.Buffer
	err := WritePDF(&buf, d)
	return boxes, err
}
