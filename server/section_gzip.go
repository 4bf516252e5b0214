package server

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// A section page is some 60 kB, nine tenths of it the section's body, which
// on a first visit (nothing checked yet) is the same for every respondent in
// a language. Compressing it again for every view was a seventh of the
// server's CPU in a whole response (bench P3). So the blank body is deflated
// once, at the best level, as is the page's tail when it comes from a shell
// (section_shell.go), and such a page is sent as one gzip member of deflate
// runs: the page's head compressed now, the body and the tail as kept. Each
// run starts on a byte boundary with a fresh window (a sync flush ends
// each), which is valid deflate: a run refers back only into itself. An
// empty final block closes the stream.

// deflated is text kept in both forms: raw, for the checksum, and as a
// deflate run that ends in a sync flush (not final). Without z the raw text
// is compressed when written.
type deflated struct {
	raw, z []byte
}

func deflate(raw []byte) deflated {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression) // a valid level: no error
	_, _ = w.Write(raw)                                // into memory: no error
	_ = w.Flush()
	return deflated{raw: raw, z: b.Bytes()}
}

var pageDeflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(io.Discard, flate.BestSpeed) // a valid level: no error
	return w
}}

// finalBlock is an empty stored block with the final bit: after a sync
// flush, on a byte boundary, it ends the deflate stream.
var finalBlock = []byte{0x01, 0x00, 0x00, 0xff, 0xff}

// gzipRuns writes the runs, one after the other, as one gzip member.
func gzipRuns(out *bytes.Buffer, runs ...deflated) {
	// Header: magic, deflate, no flags, no time, no extra flags, OS unknown.
	out.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	crc, size := uint32(0), 0
	for _, r := range runs {
		if r.z != nil {
			out.Write(r.z)
		} else if len(r.raw) > 0 {
			w := pageDeflaters.Get().(*flate.Writer)
			w.Reset(out)
			_, _ = w.Write(r.raw) // into memory: no error
			_ = w.Flush()
			pageDeflaters.Put(w)
		}
		crc = crc32.Update(crc, crc32.IEEETable, r.raw)
		size += len(r.raw)
	}
	out.Write(finalBlock)
	out.Write(binary.LittleEndian.AppendUint32(nil, crc))
	out.Write(binary.LittleEndian.AppendUint32(nil, uint32(size)))
}
