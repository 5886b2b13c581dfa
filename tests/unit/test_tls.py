"""The local certificate authority (``b24local.tls``)."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from b24local.tls import (
    RENEW_BEFORE,
    SERVER_LIFETIME,
    TlsError,
    TlsFiles,
    check_pair,
    ensure_ca,
    ensure_server_cert,
    files_in,
)


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.fixture
def files(tmp_path: Path) -> TlsFiles:
    return ensure_server_cert(tmp_path)


def test_files_live_in_the_tls_folder(tmp_path: Path, files: TlsFiles) -> None:
    assert files == files_in(tmp_path)
    assert files.ca_cert == tmp_path / "tls" / "ca.pem"
    for path in (files.ca_cert, files.ca_key, files.server_cert, files.server_key):
        assert path.is_file()


def test_server_cert_is_issued_by_the_ca(files: TlsFiles) -> None:
    ca = load(files.ca_cert)
    server = load(files.server_cert)
    server.verify_directly_issued_by(ca)
    assert server.issuer == ca.subject


def test_ca_is_self_signed_ca(files: TlsFiles) -> None:
    ca = load(files.ca_cert)
    ca.verify_directly_issued_by(ca)
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.value.ca is True
    assert constraints.critical
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign


def test_server_cert_names(files: TlsFiles) -> None:
    server = load(files.server_cert)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert set(names.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }
    assert server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in usage


def test_server_key_matches_the_cert(files: TlsFiles) -> None:
    key = serialization.load_pem_private_key(files.server_key.read_bytes(), password=None)
    cert = load(files.server_cert)
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.PEM
    assert key.public_key().public_bytes(encoding, public) == cert.public_key().public_bytes(
        encoding, public
    )


def test_key_files_are_private(files: TlsFiles) -> None:
    for path in (files.ca_key, files.server_key):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_validity(tmp_path: Path) -> None:
    now = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    files = ensure_server_cert(tmp_path, now)
    server = load(files.server_cert)
    assert server.not_valid_before_utc <= now < server.not_valid_after_utc
    assert server.not_valid_after_utc == now + SERVER_LIFETIME
    ca = load(files.ca_cert)
    assert ca.not_valid_before_utc <= now
    assert ca.not_valid_after_utc >= server.not_valid_after_utc


def test_calling_again_keeps_everything(tmp_path: Path, files: TlsFiles) -> None:
    before = {p: p.read_bytes() for p in (files.ca_cert, files.ca_key, files.server_cert)}
    again = ensure_server_cert(tmp_path)
    assert again == files
    assert {p: p.read_bytes() for p in before} == before


def test_ensure_ca_never_replaces_the_ca(tmp_path: Path) -> None:
    files = ensure_ca(tmp_path)
    ca = files.ca_cert.read_bytes()
    key = files.ca_key.read_bytes()
    ensure_ca(tmp_path)
    ensure_server_cert(tmp_path)
    assert files.ca_cert.read_bytes() == ca
    assert files.ca_key.read_bytes() == key


def test_server_cert_is_renewed_near_expiry_with_the_same_ca(tmp_path: Path) -> None:
    start = datetime(2026, 3, 2, tzinfo=UTC)
    files = ensure_server_cert(tmp_path, start)
    ca = files.ca_cert.read_bytes()
    first = files.server_cert.read_bytes()

    # Still well inside its lifetime: kept.
    ensure_server_cert(tmp_path, start + SERVER_LIFETIME - RENEW_BEFORE - timedelta(days=1))
    assert files.server_cert.read_bytes() == first

    # Within the renewal window: a new one, from the same CA.
    ensure_server_cert(tmp_path, start + SERVER_LIFETIME - RENEW_BEFORE + timedelta(days=1))
    assert files.server_cert.read_bytes() != first
    assert files.ca_cert.read_bytes() == ca
    load(files.server_cert).verify_directly_issued_by(load(files.ca_cert))


def test_server_cert_from_another_ca_is_replaced(tmp_path: Path) -> None:
    files = ensure_server_cert(tmp_path)
    files.ca_cert.unlink()
    files.ca_key.unlink()
    ensure_server_cert(tmp_path)
    load(files.server_cert).verify_directly_issued_by(load(files.ca_cert))


def test_missing_server_key_is_reissued(tmp_path: Path) -> None:
    files = ensure_server_cert(tmp_path)
    files.server_key.unlink()
    ensure_server_cert(tmp_path)
    assert files.server_key.exists()
    test_server_key_matches_the_cert(files)


# --- a real handshake ------------------------------------------------------------------


def _serve_once(listener: socket.socket, context: ssl.SSLContext, errors: list) -> None:
    try:
        conn, _ = listener.accept()
        with context.wrap_socket(conn, server_side=True) as tls:
            data = tls.recv(16)
            tls.sendall(b"pong:" + data)
    except Exception as exc:  # reported to the test thread
        errors.append(exc)


@pytest.mark.parametrize(
    ("host", "family"), [("127.0.0.1", socket.AF_INET), ("::1", socket.AF_INET6)]
)
def test_real_tls_handshake(files: TlsFiles, host: str, family: int) -> None:
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(files.server_cert, files.server_key)

    with socket.socket(family, socket.SOCK_STREAM) as listener:
        try:
            listener.bind((host, 0))
        except OSError as exc:
            pytest.skip(f"cannot listen on {host}: {exc}")
        listener.listen(1)
        listener.settimeout(30)
        port = listener.getsockname()[1]
        errors: list[Exception] = []
        thread = threading.Thread(
            target=_serve_once, args=(listener, server_context, errors), daemon=True
        )
        thread.start()

        client_context = ssl.create_default_context(cafile=str(files.ca_cert))
        with (
            socket.create_connection((host, port), timeout=30) as raw,
            client_context.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            peer = tls.getpeercert()
            tls.sendall(b"ping")
            answer = tls.recv(16)
        thread.join(timeout=30)

    assert errors == []
    assert answer == b"pong:ping"
    assert peer is not None
    assert ("DNS", "localhost") in peer["subjectAltName"]


def test_handshake_fails_without_trusting_the_ca(files: TlsFiles, tmp_path: Path) -> None:
    other = ensure_ca(tmp_path / "other")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(files.server_cert, files.server_key)

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(30)
        port = listener.getsockname()[1]
        errors: list[Exception] = []
        thread = threading.Thread(
            target=_serve_once, args=(listener, server_context, errors), daemon=True
        )
        thread.start()

        client_context = ssl.create_default_context(cafile=str(other.ca_cert))
        with (
            socket.create_connection(("127.0.0.1", port), timeout=30) as raw,
            pytest.raises(ssl.SSLCertVerificationError),
        ):
            client_context.wrap_socket(raw, server_hostname="localhost")
        thread.join(timeout=30)
    assert len(errors) == 1


# --- check_pair: the user's own certificate and key ---------------------------------------


def test_check_pair_accepts_a_matching_pair(files: TlsFiles) -> None:
    check_pair(files.server_cert, files.server_key)


def test_check_pair_refuses_what_cannot_be_served(files: TlsFiles, tmp_path: Path) -> None:
    other = ensure_server_cert(tmp_path / "other")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not PEM")
    missing = tmp_path / "missing.pem"
    cases = [
        (missing, files.server_key, f"cannot read the certificate {missing}"),
        (files.server_cert, missing, f"cannot read the key {missing}"),
        (tmp_path, files.server_key, f"cannot read the certificate {tmp_path}"),
        (garbage, files.server_key, f"{garbage} holds no PEM certificate"),
        (files.server_key, files.server_key, f"{files.server_key} holds no PEM certificate"),
        (files.server_cert, garbage, f"{garbage} holds no PEM private key"),
        (files.server_cert, other.server_key, "KEY_VALUES_MISMATCH"),
    ]
    for cert, key, message in cases:
        with pytest.raises(TlsError) as caught:
            check_pair(cert, key)
        assert message in str(caught.value)


def test_check_pair_refuses_an_encrypted_key_without_prompting(
    files: TlsFiles, tmp_path: Path
) -> None:
    key = serialization.load_pem_private_key(files.server_key.read_bytes(), password=None)
    encrypted = tmp_path / "encrypted-key.pem"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(TlsError, match="is encrypted"):
        check_pair(files.server_cert, encrypted)
