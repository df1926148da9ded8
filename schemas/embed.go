// Package schemas embeds certplan's JSON Schemas (draft 2020-12).
//
// Layout (every file has "$id": "https://certplan.dev/schemas/<file>", each its own):
//   - manifest.schema.json          the envelope (apiVersion, kind, metadata, spec); for
//     kind Certificate it selects the family schema for spec.order by spec.product.
//   - common.schema.json            shared $defs: secretRef, csr, contact, organization,
//     credit_card, billing_address, container, custom_fields, payment rules, ...
//   - securesite.schema.json        spec.order for ssl_securesite_flex
//   - private_ssl.schema.json       spec.order for private_ssl_*
//   - document_signing.schema.json  spec.order for document_signing_org_*
//   - legacy_ssl.schema.json        spec.order for legacy_ssl (REST v1 flat parameters)
//   - certplan.schema.json          the editor bundle, generated (spec.BundledSchema): all of
//     the above in one file, with yaml-language-server's keywords. It is the only file
//     with keywords that are not JSON Schema 2020-12's; the others load in strict validators.
package schemas

import "embed"

// BaseURL prefixes every schema's $id.
const BaseURL = "https://certplan.dev/schemas/"

// FS holds the schema files.
//
//go:embed *.schema.json
var FS embed.FS
