// Package seal encrypts reporters' identities so that only the receiving office can read them:
// one age X25519 key pair per office, the public halves on the servers that take tips in, the
// private halves with the offices.
package seal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/tipline/tipline/internal/tip"
)

// Identity is who the reporter says they are. It exists in clear only in memory, between the
// request that carries it and Seal, and after Open.
type Identity struct {
	Name     string `json:"name,omitempty"`
	Phone    string `json:"phone,omitempty"`
	IDNumber string `json:"id_number,omitempty"`
	Contact  string `json:"contact,omitempty"`
}

// File names in a keys folder: <office>.pub holds the recipient, <office>.key the private key.
const (
	pubSuffix = ".pub"
	keySuffix = ".key"
)

// Init creates a key pair for every office in dir. It never replaces a key: losing a private
// key would make every identity sealed for that office unreadable.
func Init(dir string) (created []tip.Office, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("seal: keys: %w", err)
	}
	for _, o := range tip.Offices() {
		keyPath := filepath.Join(dir, string(o)+keySuffix)
		pubPath := filepath.Join(dir, string(o)+pubSuffix)
		_, kerr := os.Stat(keyPath)
		_, perr := os.Stat(pubPath)
		if kerr == nil || perr == nil {
			continue
		}
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return created, fmt.Errorf("seal: generate %s: %w", o, err)
		}
		key := fmt.Sprintf("# tipline identity key of %s (%s). Keep it with the office; never on a server that takes tips in.\n%s\n", o, o.Name(), id)
		if err := writeNew(keyPath, []byte(key), 0o600); err != nil {
			return created, err
		}
		if err := writeNew(pubPath, []byte(id.Recipient().String()+"\n"), 0o644); err != nil {
			return created, err
		}
		created = append(created, o)
	}
	return created, nil
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	_, err = f.Write(data)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("seal: write %s: %w", path, err)
	}
	return nil
}

// Sealer encrypts identities to offices' public keys.
type Sealer struct {
	recipients map[tip.Office]*age.X25519Recipient
}

// LoadRecipients reads every office's public key from dir; each of the twelve must be there.
func LoadRecipients(dir string) (*Sealer, error) {
	s := &Sealer{recipients: map[tip.Office]*age.X25519Recipient{}}
	var missing []string
	for _, o := range tip.Offices() {
		b, err := os.ReadFile(filepath.Join(dir, string(o)+pubSuffix))
		if errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, string(o)+pubSuffix)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		r, err := age.ParseX25519Recipient(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("seal: %s%s: %w", o, pubSuffix, err)
		}
		s.recipients[o] = r
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("seal: %s lacks %s (create them with: tipline keys init --dir %s)", dir, strings.Join(missing, ", "), dir)
	}
	return s, nil
}

// Recipients are the offices an identity is sealed for: the office the tip was sent to, and
// the city office, which receives every tip no office was chosen for and hands a tip on when
// it was sent to the wrong office.
func Recipients(office tip.Office) []tip.Office {
	if office == "" || office == tip.City {
		return []tip.Office{tip.City}
	}
	return []tip.Office{office, tip.City}
}

// Seal encrypts id for the given offices.
func (s *Sealer) Seal(id Identity, offices ...tip.Office) ([]byte, error) {
	var rs []age.Recipient
	for _, o := range offices {
		r, ok := s.recipients[o]
		if !ok {
			return nil, fmt.Errorf("seal: no key for office %q", o)
		}
		rs = append(rs, r)
	}
	if len(rs) == 0 {
		return nil, errors.New("seal: no office to seal for")
	}
	plain, err := json.Marshal(id)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	w, err := age.Encrypt(&out, rs...)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return out.Bytes(), nil
}

// Opener decrypts identities with one office's private key.
type Opener struct {
	Office   tip.Office
	identity age.Identity
}

// LoadKey reads office's private key from dir.
func LoadKey(dir string, office tip.Office) (*Opener, error) {
	f, err := os.Open(filepath.Join(dir, string(office)+keySuffix))
	if err != nil {
		return nil, fmt.Errorf("seal: key of %s: %w", office, err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("seal: key of %s: %w", office, err)
	}
	return &Opener{Office: office, identity: ids[0]}, nil
}

// ParseKey reads an office's private key as tipline keys init wrote it (comment lines allowed),
// for a supervisor who brings the key to open one identity; it is never stored.
func ParseKey(office tip.Office, text string) (*Opener, error) {
	ids, err := age.ParseIdentities(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("seal: key of %s: %w", office, err)
	}
	return &Opener{Office: office, identity: ids[0]}, nil
}

// ErrNotForThisOffice means the identity was sealed for other offices.
var ErrNotForThisOffice = errors.New("seal: identity not sealed for this office")

// Open decrypts a sealed identity.
func (o *Opener) Open(sealed []byte) (Identity, error) {
	r, err := age.Decrypt(bytes.NewReader(sealed), o.identity)
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) {
		return Identity{}, ErrNotForThisOffice
	}
	if err != nil {
		return Identity{}, fmt.Errorf("seal: open: %w", err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		return Identity{}, fmt.Errorf("seal: open: %w", err)
	}
	var id Identity
	if err := json.Unmarshal(plain, &id); err != nil {
		return Identity{}, fmt.Errorf("seal: open: %w", err)
	}
	return id, nil
}
