# Locust in its own image and process (never inside the harness, which imports torch).
# Its wheels are downloaded on the host into images/wheels/ (pip inside containers cannot
# reach PyPI here) and installed offline into a venv on Debian's Python.
ARG RUNTIME_IMAGE=faultlab/runtime:dev
FROM ${RUNTIME_IMAGE}
USER root
RUN apt-get update && apt-get install -y --no-install-recommends python3-venv \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
COPY images/wheels /tmp/wheels
RUN python3 -m venv /venv \
 && /venv/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels locust prometheus-client \
 && rm -rf /tmp/wheels
ENV PATH=/venv/bin:$PATH
LABEL org.faultlab.image=locust
USER 10001:10001
