#!/usr/bin/env bash
# Build the Flex Template launcher image, write the template spec, and launch a wiredesk job.
#
#   deploy/launch.sh batch|streaming PROJECT [REGION]
#
# Needs: gcloud (authenticated), docker, and `terraform apply` in deploy/terraform done first
# (dataset, bucket, Artifact Registry repository, service account). Environment overrides:
#   FEEDS      (default /template/feeds.yaml, the file baked into the image; or comma-separated URLs)
#   DATASET    (default wiredesk)   BUCKET (default PROJECT-wiredesk)   REPOSITORY (default wiredesk)
#   TAG        (default: git short hash)   SUBSCRIPTION (for a streaming job with SOURCE=pubsub)
set -euo pipefail
MODE="${1:?usage: deploy/launch.sh batch|streaming PROJECT [REGION]}"
PROJECT="${2:?usage: deploy/launch.sh batch|streaming PROJECT [REGION]}"
REGION="${3:-us-central1}"
case "$MODE" in batch|streaming) ;; *) echo "mode must be batch or streaming" >&2; exit 2;; esac

cd "$(dirname "$0")/.."
DATASET="${DATASET:-wiredesk}"
BUCKET="${BUCKET:-${PROJECT}-wiredesk}"
REPOSITORY="${REPOSITORY:-wiredesk}"
TAG="${TAG:-$(git rev-parse --short HEAD 2>/dev/null || date +%Y%m%d%H%M%S)}"
IMAGE="${REGION}-docker.pkg.dev/${PROJECT}/${REPOSITORY}/wiredesk-launcher:${TAG}"
TEMPLATE="gs://${BUCKET}/templates/wiredesk-${TAG}.json"
SA="wiredesk-worker@${PROJECT}.iam.gserviceaccount.com"
FEEDS="${FEEDS:-/template/feeds.yaml}"

echo "== building ${IMAGE}"
gcloud auth configure-docker "${REGION}-docker.pkg.dev" --quiet
docker build -f deploy/flex/Dockerfile -t "${IMAGE}" .
docker push "${IMAGE}"

echo "== writing ${TEMPLATE}"
gcloud dataflow flex-template build "${TEMPLATE}" \
  --image="${IMAGE}" --sdk-language=PYTHON --metadata-file=deploy/flex/metadata.json --project="${PROJECT}"

PARAMS="feeds=${FEEDS}~warehouse=bigquery:${PROJECT}.${DATASET}"
if [ "$MODE" = streaming ]; then
  PARAMS="${PARAMS}~streaming=true"
  if [ -n "${SUBSCRIPTION:-}" ]; then PARAMS="${PARAMS}~source=pubsub~subscription=${SUBSCRIPTION}"; fi
fi

echo "== launching a ${MODE} job"
# ^~^ makes '~' the separator, so comma-separated feed URLs survive inside one parameter.
gcloud dataflow flex-template run "wiredesk-${MODE}-$(date +%Y%m%d-%H%M%S)" \
  --project="${PROJECT}" --region="${REGION}" --template-file-gcs-location="${TEMPLATE}" \
  --service-account-email="${SA}" --temp-location="gs://${BUCKET}/tmp" --staging-location="gs://${BUCKET}/staging" \
  --parameters="^~^${PARAMS}"
