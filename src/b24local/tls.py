"""A local certificate authority and a server certificate it signs, like mkcert.

The official SDKs only speak ``https://``. ``b24local serve --tls`` creates a CA
once in the data directory and a certificate for ``localhost``/``127.0.0.1``/``::1``;
clients trust the CA file (``b24local tls ca-path``), e.g. via REQUESTS_CA_BUNDLE.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from b24local.clock import SystemClock

SERVER_NAMES = ("localhost",)
SERVER_IPS = ("127.0.0.1", "::1")
CA_LIFETIME = timedelta(days=3650)
SERVER_LIFETIME = timedelta(days=825)
#: Re-issue the server certificate when it has less than this left.
RENEW_BEFORE = timedelta(days=30)


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path


def files_in(data_dir: Path) -> TlsFiles:
    folder = data_dir / "tls"
    return TlsFiles(
        ca_cert=folder / "ca.pem",
        ca_key=folder / "ca-key.pem",
        server_cert=folder / "server.pem",
        server_key=folder / "server-key.pem",
    )


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def ensure_ca(data_dir: Path, now: datetime | None = None) -> TlsFiles:
    """Create the CA if it does not exist yet; never replace an existing one."""
    files = files_in(data_dir)
    if files.ca_cert.exists() and files.ca_key.exists():
        return files
    # Certificates are checked by clients against real time, never a dev clock.
    now = now or SystemClock().now()
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "b24local"),
            x509.NameAttribute(NameOID.COMMON_NAME, "b24local local CA"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(files.ca_key, _key_pem(key))
    files.ca_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files


def _needs_new_server_cert(files: TlsFiles, now: datetime) -> bool:
    if not (files.server_cert.exists() and files.server_key.exists()):
        return True
    cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        # Signed by an earlier CA (the CA files were replaced): issue anew.
        return True
    return cert.not_valid_after_utc - now < RENEW_BEFORE


def ensure_server_cert(data_dir: Path, now: datetime | None = None) -> TlsFiles:
    """The CA plus a current server certificate signed by it."""
    now = now or SystemClock().now()
    files = ensure_ca(data_dir, now)
    if not _needs_new_server_cert(files, now):
        return files
    ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in SERVER_NAMES]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVER_IPS]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + SERVER_LIFETIME)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    _write_private(files.server_key, _key_pem(key))
    files.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files


class TlsError(ValueError):
    """Files that cannot serve TLS; the message is for the user."""


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise TlsError(f"cannot read the {what} {path}: {error.strerror or error}") from None


def check_pair(cert: Path, key: Path) -> None:
    """Load a certificate and its key as the server will, so that a missing file, a
    file without PEM, an encrypted key or a key of another certificate is refused
    before anything listens (and before OpenSSL could prompt for a passphrase)."""
    cert_pem, key_pem = _read(cert, "certificate"), _read(key, "key")
    try:
        x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise TlsError(f"{cert} holds no PEM certificate") from None
    try:
        serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise TlsError(f"the key {key} is encrypted; b24local needs it unencrypted") from None
    except (ValueError, UnsupportedAlgorithm):
        raise TlsError(f"{key} holds no PEM private key") from None
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)
    except ssl.SSLError as error:
        reason = error.reason or str(error)
        raise TlsError(
            f"cannot serve the certificate {cert} with the key {key}: {reason}"
        ) from None
