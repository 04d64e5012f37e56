# Certificates for the TLS tests, made at test time (no key is kept in the
# tree): make_certs DIR writes
#   ca.pem ca.key            a CA
#   server.pem server.key    signed by it, SAN 127.0.0.1 and localhost
#   client.pem client.key    a client certificate signed by it
#   other-ca.pem             another CA, that signed nothing here
#   rogue.pem rogue.key      a client certificate signed by other-ca
#   expired.pem expired.key  a server certificate by ca, expired in 2020
#                            (openssl ca -startdate/-enddate: x509 -days
#                            cannot make one in the past)
make_certs() {
	local d=$1
	mkdir -p "$d/db"
	(
	cd "$d" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 3 -subj /CN=test-ca \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign \
	    -keyout ca.key -out ca.pem
	openssl req -x509 -newkey rsa:2048 -nodes -days 3 -subj /CN=other-ca \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign \
	    -keyout other-ca.key -out other-ca.pem
	printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
	    'extendedKeyUsage=serverAuth' >server.ext
	printf '%s\n' 'extendedKeyUsage=clientAuth' >client.ext
	openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
	    -keyout server.key -out server.csr
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -days 3 -extfile server.ext -out server.pem
	openssl req -newkey rsa:2048 -nodes -subj /CN=client \
	    -keyout client.key -out client.csr
	openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -days 3 -extfile client.ext -out client.pem
	openssl req -newkey rsa:2048 -nodes -subj /CN=rogue \
	    -keyout rogue.key -out rogue.csr
	openssl x509 -req -in rogue.csr -CA other-ca.pem -CAkey other-ca.key \
	    -CAcreateserial -days 3 -extfile client.ext -out rogue.pem
	: >db/index.txt
	echo 01 >db/serial
	cat >ca.cnf <<CNF
[ ca ]
default_ca = test
[ test ]
dir = .
database = db/index.txt
serial = db/serial
new_certs_dir = db
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = server_ext
[ any ]
commonName = supplied
[ server_ext ]
subjectAltName = IP:127.0.0.1,DNS:localhost
extendedKeyUsage = serverAuth
CNF
	openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
	    -keyout expired.key -out expired.csr
	openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key \
	    -startdate 200101000000Z -enddate 200102000000Z \
	    -in expired.csr -out expired.pem
	) >"$d/make.log" 2>&1
}
