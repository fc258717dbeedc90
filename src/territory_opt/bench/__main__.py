"""``python -m territory_opt.bench SUITE ...`` (same as ``territory-opt bench``)."""

import typer

from territory_opt.bench.command import bench

if __name__ == "__main__":
    typer.run(bench)
