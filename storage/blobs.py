"""Blob storage for uploaded files: local disk (default) or an S3-compatible bucket, behind one interface.

Keys are made here from the tenant and a random id; nothing from a request
ever becomes part of a path or an object name.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import quote

from core.failures import NotFound
from core.settings import Settings
from storage.tenancy import Tenant

_KEY = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/(live|test)/[0-9a-f]{32}$")


def new_blob_key(tenant: Tenant) -> str:
    return f"{tenant.organization_id}/{tenant.mode.value}/{uuid.uuid4().hex}"


def _checked(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError(f"not a blob key: {key!r}")
    return key


class BlobNotFound(NotFound):
    """No blob under the key: deleted with its document, maybe while a job was reading it."""

    def __init__(self, key: str) -> None:
        # The id part only: the rest of a key is the tenant's, and says nothing to the reader.
        super().__init__("file", key.rsplit("/", 1)[-1])
        self.args = (key,)


@contextmanager
def _file_missing_as_not_found(key: str) -> Iterator[None]:
    try:
        yield
    except FileNotFoundError:
        raise BlobNotFound(key) from None


@contextmanager
def _object_missing_as_not_found(key: str) -> Iterator[None]:
    from botocore.exceptions import ClientError  # imported with the S3 client, never for local disk

    try:
        yield
    except ClientError as exc:
        # `NoSuchKey` from a GET; a bare 404 from the HEAD a managed download starts with.
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            raise BlobNotFound(key) from exc
        raise


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class BlobStore(Protocol):
    def put(self, key: str, source: Readable) -> None:
        """Store `source`'s bytes (read from its current position) under `key`."""

    def copy_to(self, key: str, destination: IO[bytes]) -> None:
        """Write the blob's bytes into `destination`; BlobNotFound if there is none."""

    def open(self, key: str) -> IO[bytes]:
        """The blob's bytes as a readable stream (close it); BlobNotFound if there is none."""

    def delete(self, key: str) -> None:
        """Remove the blob at once (a URL the storage signed for it stops working); none is no error."""

    def presigned_url(self, key: str, filename: str, content_type: str, expires_in: int) -> str | None:
        """A URL the storage itself signs, or None when the gateway must sign its own."""


class LocalBlobStore:
    """Files under one directory, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _checked(key)

    def put(self, key: str, source: Readable) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as partial:
            try:
                shutil.copyfileobj(source, partial, 1024 * 1024)
                partial.flush()
                os.fsync(partial.fileno())
            except BaseException:
                os.unlink(partial.name)  # e.g. a full disk: leave no half-written file behind
                raise
        os.replace(partial.name, path)

    def copy_to(self, key: str, destination: IO[bytes]) -> None:
        with _file_missing_as_not_found(key), self._path(key).open("rb") as blob:
            shutil.copyfileobj(blob, destination, 1024 * 1024)

    def open(self, key: str) -> IO[bytes]:
        with _file_missing_as_not_found(key):
            return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def presigned_url(self, key: str, filename: str, content_type: str, expires_in: int) -> str | None:
        return None


class S3BlobStore:
    """Objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, …)."""

    def __init__(self, bucket: str, client: Any) -> None:
        self.bucket = bucket
        self.client = client

    def put(self, key: str, source: Readable) -> None:
        self.client.upload_fileobj(source, self.bucket, _checked(key))

    def copy_to(self, key: str, destination: IO[bytes]) -> None:
        with _object_missing_as_not_found(key):
            self.client.download_fileobj(self.bucket, _checked(key), destination)

    def open(self, key: str) -> IO[bytes]:
        with _object_missing_as_not_found(key):
            body: IO[bytes] = self.client.get_object(Bucket=self.bucket, Key=_checked(key))["Body"]
        return body

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=_checked(key))

    def presigned_url(self, key: str, filename: str, content_type: str, expires_in: int) -> str | None:
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": _checked(key),
                "ResponseContentType": content_type,
                "ResponseContentDisposition": content_disposition(filename),
            },
            ExpiresIn=expires_in,
        )
        return url


def content_disposition(filename: str) -> str:
    """`attachment` with the name as given (RFC 6266: an ASCII fallback plus the UTF-8 form)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


_stores: dict[tuple[Any, ...], BlobStore] = {}


def blob_store_for(settings: Settings) -> BlobStore:
    """The store the settings name: S3 when a bucket is named, else local disk."""
    return blob_store(
        root=settings.blob_dir,
        bucket=settings.s3_bucket,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
    )


def blob_store(
    *,
    root: Path,
    bucket: str | None = None,
    endpoint_url: str | None = None,
    region: str = "us-east-1",
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
) -> BlobStore:
    """The store the settings name: S3 when a bucket is given, else local disk. One client per process."""
    where = (root, bucket, endpoint_url, region, access_key_id)
    if where not in _stores:
        if bucket is None:
            _stores[where] = LocalBlobStore(root)
        else:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
            )
            _stores[where] = S3BlobStore(bucket, client)
    return _stores[where]
