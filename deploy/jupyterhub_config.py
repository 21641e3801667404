"""JupyterHub settings for a class on one server.

With The Littlest JupyterHub (TLJH), copy this file and copy_labs.py to /opt/tljh/config/jupyterhub_config.d/ and
run `sudo tljh-config reload`; with a JupyterHub of your own, load it from your jupyterhub_config.py with
`load_subconfig("/path/to/deploy/jupyterhub_config.py")`. See deploy/README.md.

What it sets:
- every student's server starts through copy_labs.py: as the student, before JupyterLab starts, the course's labs
  are copied into ~/labs, never overwriting a notebook already there, so a student's work survives restarts and
  course updates;
- JupyterLab opens lab 00, the start page;
- resource limits per student (honoured by spawners that enforce them: TLJH's systemd spawner, Kubernetes).

Environment of the hub: COURSE_LABS, the folder of the released labs (`make release` writes
dist/training-nets-course/labs; default /opt/training-nets-course/labs); COURSE_SINGLEUSER, the command that starts
a student's server (default: TLJH's, when present, else jupyterhub-singleuser).
"""
import os
import shlex
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

COURSE_LABS = os.environ.get("COURSE_LABS", "/opt/training-nets-course/labs")
TLJH_SINGLEUSER = "/opt/tljh/user/bin/jupyterhub-singleuser"
SINGLEUSER = shlex.split(os.environ.get(
    "COURSE_SINGLEUSER", TLJH_SINGLEUSER if os.path.exists(TLJH_SINGLEUSER) else "jupyterhub-singleuser"))

c.Spawner.cmd = [sys.executable, str(Path(__file__).with_name("copy_labs.py")), COURSE_LABS, "--then", *SINGLEUSER]
c.Spawner.default_url = "/lab/tree/labs/00_start_here.ipynb"
c.Spawner.mem_limit = "1G"  # measured: a student's server with lab 01 and its explorers (deploy/README.md)
c.Spawner.cpu_limit = 1.0
