"""pyarrow filesystems for object-store URIs, configured from the lake's deltalake storage options.

One set of credentials serves Delta tables (deltalake), WARC sources and model files: the
deltalake option names (`AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT_URL`, ...) are mapped onto pyarrow's
filesystem arguments; keys without a pyarrow equivalent are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping


def is_uri(s: str) -> bool:
    """An object-store URI (s3://, gs://, ...); plain paths and file:// are local."""
    return "://" in s and not s.startswith("file://")


def filesystem_for(uri: str, storage_options: Mapping[str, str] | None):
    """(pyarrow FileSystem, path inside it) for an object-store URI."""
    import pyarrow.fs as pafs

    opts = {k.upper(): v for k, v in (storage_options or {}).items()}
    scheme, _, rest = uri.partition("://")
    scheme = scheme.lower()
    if scheme in ("s3", "s3a"):
        kwargs = {}
        for key, arg in (("AWS_ACCESS_KEY_ID", "access_key"), ("AWS_SECRET_ACCESS_KEY", "secret_key"),
                         ("AWS_SESSION_TOKEN", "session_token"), ("AWS_REGION", "region")):  # fmt: skip
            if opts.get(key):
                kwargs[arg] = opts[key]
        endpoint = opts.get("AWS_ENDPOINT_URL") or opts.get("AWS_ENDPOINT")
        if endpoint:
            scheme_ep, _, host = endpoint.partition("://")
            kwargs["endpoint_override"] = host or scheme_ep
            kwargs["scheme"] = scheme_ep if host else "https"
        if str(opts.get("AWS_SKIP_SIGNATURE", "")).lower() == "true":
            kwargs["anonymous"] = True
        return pafs.S3FileSystem(**kwargs), rest
    if scheme in ("gs", "gcs"):
        return pafs.GcsFileSystem(), rest
    fs, path = pafs.FileSystem.from_uri(uri)
    return fs, path
