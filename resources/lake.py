"""The lake resource: where Delta tables live, and the Dagster provenance put on every commit."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from goldpan.lake import Lake


class LakeResource(dg.ConfigurableResource):
    """One Delta table per asset under `root`: a local folder (default ./lake) or any URI deltalake
    accepts (s3://, gs://, az://), with `storage_options` passed to deltalake unchanged."""

    root: str = Field(default="lake", description="Lake root folder or URI.")
    storage_options: dict[str, str] = Field(default_factory=dict, description="deltalake storage options.")

    def lake(self) -> Lake:
        return Lake(self.root, self.storage_options)

    @staticmethod
    def commit_metadata(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext, code_version: str) -> dict:
        """What every Delta commit records so a table version points back to the Dagster run."""
        meta = {"dagster_run_id": context.run.run_id, "code_version": code_version}
        if isinstance(context, dg.AssetExecutionContext):
            meta["dagster_asset"] = ",".join(sorted(k.to_user_string() for k in context.selected_asset_keys))
            if context.has_partition_key:
                meta["partition"] = context.partition_key
        return meta
