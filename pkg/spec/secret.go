package spec

import "github.com/certplan/certplan/pkg/secret"

// Secret references live in the leaf package pkg/secret, so that the HTTP
// client (certcentral), which resolves them, need not import spec. These
// aliases and wrappers keep spec's API unchanged.

// Sensitive is what a secret value renders as anywhere outside the HTTP request.
const Sensitive = secret.Sensitive

// SecretRef says where a secret lives; see secret.Ref.
type SecretRef = secret.Ref

// Secret is a secret value inside Certificate.Order; see secret.Value.
type Secret = secret.Value

// SecretRefs returns every secret in an order body by dotted path
// (e.g. "credit_card.number"); see secret.Refs.
func SecretRefs(order map[string]any) map[string]SecretRef { return secret.Refs(order) }

// InjectSecrets puts Secret values back at the given dotted paths of a body
// decoded from a plan file; see secret.Inject.
func InjectSecrets(order map[string]any, refs map[string]SecretRef) error {
	return secret.Inject(order, refs)
}
