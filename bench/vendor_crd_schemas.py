"""Extract the openAPIV3Schema of upstream CRDs into tests/kube/schemas/ (data only, no code copied).

    git -C <flagger clone> show v1.44.0:artifacts/flagger/crd.yaml > flagger-crd.yaml
    git -C <traefik-helm-chart clone> show v37.4.0:traefik/crds/traefik.io_ingressroutes.yaml > ir.yaml
    git -C <traefik-helm-chart clone> show v37.4.0:traefik/crds/traefik.io_traefikservices.yaml > ts.yaml
    python bench/vendor_crd_schemas.py flagger-crd.yaml ir.yaml ts.yaml

Writes one JSON file per (kind, served storage version), named after the kind in lower case, wrapped with
its group, version and source so the tests can check they validate the version the manifests use.
Record the source commits in tests/kube/schemas/NOTICE when you run it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

OUT = Path(__file__).resolve().parents[1] / "tests" / "kube" / "schemas"


def main(paths: list[str]) -> None:
    for path in paths:
        for doc in yaml.safe_load_all(Path(path).read_text(encoding="utf-8")):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec["versions"]:
                if not (version.get("served") and version.get("storage")):
                    continue
                kind = spec["names"]["kind"]
                wrapped = {
                    "crd": doc["metadata"]["name"],
                    "group": spec["group"],
                    "version": version["name"],
                    "kind": kind,
                    "source": Path(path).name,
                    "schema": version["schema"]["openAPIV3Schema"],
                }
                target = OUT / f"{kind.lower()}.json"
                target.write_text(json.dumps(wrapped, indent=1, sort_keys=True) + "\n", encoding="utf-8")
                print(f"{target.relative_to(OUT.parents[2])}: {doc['metadata']['name']} {version['name']}")


if __name__ == "__main__":
    main(sys.argv[1:])
