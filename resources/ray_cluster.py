"""The recipe resource with a Ray cluster attached through dagster-ray: the same assets on Ray.

`RayRecipeResource(path=..., ray_cluster=...)` is `RecipeResource` with the engine switched to Ray
and the connection managed by a dagster-ray `RayResource`: `LocalRay` (a private Ray instance in the
step's process: tests, one machine) or a `dagster_ray.kuberay` resource (a KubeRay `RayCluster` the
team operates, or one created per run). Dagster initialises the nested resource before the step runs
(`ray.init`) and disconnects it afterwards; goldpan's Ray engine then finds Ray initialised and uses
that connection (goldpan.engine.ray_engine.ensure_ray), so the library never imports dagster-ray.

An extra (`pip install goldpan[ray]`): ray and dagster-ray are not needed on one machine.
"""

from __future__ import annotations

from dagster_ray import RayResource
from pydantic import Field

from goldpan.recipe import Recipe
from resources.recipe import RecipeResource


class RayRecipeResource(RecipeResource):
    ray_cluster: RayResource = Field(description="dagster-ray resource that connects this run to Ray "
                                     "(LocalRay, or a KubeRay cluster).")

    def load(self) -> Recipe:
        rc = super().load()
        if rc.engine.kind == "ray":
            return rc
        return rc.model_copy(update={"engine": rc.engine.model_copy(update={"kind": "ray"})})


def local_ray(num_cpus: int = 2, object_store_mb: int = 200) -> RayResource:
    """dagster-ray's local backend with the settings goldpan's own private instance uses."""
    from dagster_ray import LocalRay

    return LocalRay(ray_init_options={"num_cpus": num_cpus, "object_store_memory": object_store_mb * 2**20,
                                      "include_dashboard": False, "log_to_driver": False,
                                      "configure_logging": False, "namespace": "goldpan"})
