# Shared by the interop files: what they need before a test, and the
# certificates of the TLS files.

# need_nsqjs: fails the test unless node and the pinned nsqjs are here;
# sets JS, the folder of the node scripts.
need_nsqjs() {
	if ! command -v node >/dev/null; then
		fail "node is not installed (scripts/deps.sh test)"
	fi
	if [[ ! -d $BATS_TEST_DIRNAME/node_modules/nsqjs ]]; then
		fail "nsqjs is missing: run scripts/deps.sh test (npm ci in tests/interop)"
	fi
	# shellcheck disable=SC2034 # used by the files that load this
	JS=$BATS_TEST_DIRNAME
}

# need_tools: sets PUB and TAIL, our nsq-pub and nsq-tail.
need_tools() {
	PUB=$NSQ_BIN_DIR/nsq-pub
	TAIL=$NSQ_BIN_DIR/nsq-tail
	[[ -x $PUB && -x $TAIL ]] || fail "no nsq-pub/nsq-tail in $NSQ_BIN_DIR"
}

# make_server_cert: a CA and a server certificate it signed (localhost,
# 127.0.0.1) in $CERTS, made by the openssl CLI: no key is kept.
make_server_cert() {
	export CERTS="$BATS_FILE_TMPDIR/certs"
	mkdir -p "$CERTS"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ca \
	    -keyout "$CERTS/ca.key" -out "$CERTS/ca.pem" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
	    -keyout "$CERTS/server.key" -out "$CERTS/server.csr" 2>/dev/null
	echo 'subjectAltName=DNS:localhost,IP:127.0.0.1' >"$CERTS/server.ext"
	openssl x509 -req -in "$CERTS/server.csr" -CA "$CERTS/ca.pem" \
	    -CAkey "$CERTS/ca.key" -CAcreateserial -days 2 \
	    -extfile "$CERTS/server.ext" -out "$CERTS/server.pem" 2>/dev/null
}
