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
// once, at the best level, and a page that shows it is sent as one gzip
// member of three deflate runs: the page's head compressed now, the body as
// kept, the tail compressed now. Each run starts on a byte boundary with a
// fresh window (a sync flush ends the first two), which is valid deflate:
// a run refers back only into itself.

// deflated is text kept in both forms: raw, for the checksum, and as a
// deflate run that ends in a sync flush (not final).
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

// gzipSpliced writes head, middle and tail as one gzip member, compressing
// only head and tail.
func gzipSpliced(out *bytes.Buffer, head []byte, middle deflated, tail []byte) {
	// Header: magic, deflate, no flags, no time, no extra flags, OS unknown.
	out.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	w := pageDeflaters.Get().(*flate.Writer)
	defer pageDeflaters.Put(w)
	w.Reset(out)
	_, _ = w.Write(head) // into memory: no error
	_ = w.Flush()
	out.Write(middle.z)
	w.Reset(out)
	_, _ = w.Write(tail)
	_ = w.Close() // the final block
	crc := crc32.ChecksumIEEE(head)
	crc = crc32.Update(crc, crc32.IEEETable, middle.raw)
	crc = crc32.Update(crc, crc32.IEEETable, tail)
	out.Write(binary.LittleEndian.AppendUint32(nil, crc))
	out.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(head)+len(middle.raw)+len(tail))))
}
