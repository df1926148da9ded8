package simulator

import (
	"encoding/asn1"
	"fmt"
)

var (
	oidPKCS7Data       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidPKCS7SignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
)

// p7Content is ContentInfo with the content as an explicit [0] raw value.
type p7Content struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"optional"`
}

// p7SignedData is a degenerate SignedData: no digests, no signers, only certificates.
type p7SignedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue // empty SET
	ContentInfo      p7Content     // data, no content
	Certificates     asn1.RawValue // [0] IMPLICIT SET OF Certificate
	SignerInfos      asn1.RawValue // empty SET
}

// degeneratePKCS7 encodes certificates (DER, leaf first) as a PKCS#7
// "certs-only" SignedData in DER, the format of .p7b files.
func degeneratePKCS7(certs [][]byte) ([]byte, error) {
	var all []byte
	for _, c := range certs {
		all = append(all, c...)
	}
	emptySet := asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: []byte{}}
	sd := p7SignedData{
		Version:          1,
		DigestAlgorithms: emptySet,
		ContentInfo:      p7Content{ContentType: oidPKCS7Data},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: all},
		SignerInfos:      emptySet,
	}
	sdDER, err := asn1.Marshal(sd)
	if err != nil {
		return nil, fmt.Errorf("encode PKCS#7 signed data: %w", err)
	}
	ci := p7Content{
		ContentType: oidPKCS7SignedData,
		Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sdDER},
	}
	der, err := asn1.Marshal(ci)
	if err != nil {
		return nil, fmt.Errorf("encode PKCS#7 content info: %w", err)
	}
	return der, nil
}
