#!/usr/bin/env bash
# Runs a throwaway Dovecot IMAP server on 127.0.0.1 for tests, with one passwd-file user and a
# Maildir in a temporary folder. Mail is delivered with `doveadm save`, as a real delivery would.
#
#   scripts/dovecot.sh start     install dovecot-imapd if missing (apt), write config, start, wait
#   scripts/dovecot.sh stop      stop it
#   scripts/dovecot.sh status    exit 0 when it answers
#
# Environment: IMAP_PORT (default 11143; STARTTLS offered), IMAPS_PORT (default IMAP_PORT+850,
# implicit TLS), DOVECOT_STATE (default /tmp/tipline-dovecot-$IMAP_PORT). The TLS certificate is
# self-signed for 127.0.0.1, in $DOVECOT_STATE/cert.pem. The tests find the server through
# TIPLINE_TEST_IMAP (host:port) and TIPLINE_TEST_DOVECOT_CONF (for doveadm); user "tipline",
# password "tipline-test".
set -euo pipefail

port=${IMAP_PORT:-11143}
tlsport=${IMAPS_PORT:-$((port + 850))}
state=${DOVECOT_STATE:-/tmp/tipline-dovecot-$port}
conf=$state/dovecot.conf

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

install() {
  if command -v dovecot >/dev/null && command -v doveadm >/dev/null && [ -x /usr/lib/dovecot/imap ]; then return; fi
  "$(dirname "$0")/apt-install.sh" dovecot-imapd
}

start() {
  install
  if answers; then echo "dovecot.sh: something already listens on 127.0.0.1:$port" >&2; exit 1; fi
  rm -rf "$state"
  mkdir -p "$state/run" "$state/mail"
  # Dovecot will not run mail processes as root: the mailbox belongs to an ordinary user.
  mailuser=nobody
  mailgroup=$(id -gn nobody)
  uid=$(id -u $mailuser); gid=$(id -g $mailuser)
  chown "$mailuser:$mailgroup" "$state/mail"
  chmod 0755 "$state" "$state/run"
  echo "tipline:{PLAIN}tipline-test:$uid:$gid::$state/mail/tipline" > "$state/users"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$state/key.pem" -out "$state/cert.pem" 2>/dev/null
  cat > "$conf" <<CONF
base_dir = $state/run
state_dir = $state/run
instance_name = tipline-test-$port
log_path = $state/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <$state/cert.pem
ssl_key = <$state/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $state/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $state/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $tlsport
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
protocol imap {
  mail_max_userip_connections = 100
}
CONF
  dovecot -c "$conf"
  for _ in $(seq 1 50); do
    if answers; then
      echo "dovecot.sh: Dovecot $(dovecot --version | cut -d' ' -f1) answers on 127.0.0.1:$port" >&2
      return
    fi
    sleep 0.2
  done
  echo "dovecot.sh: Dovecot did not answer" >&2; cat "$state/dovecot.log" >&2 || true; exit 1
}

stop() {
  [ -f "$conf" ] || return 0
  doveadm -c "$conf" stop 2>/dev/null || true
  for _ in $(seq 1 50); do answers || return 0; sleep 0.1; done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) answers ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
