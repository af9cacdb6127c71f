/*
 * scenarios: the step tables of the disaster scenarios (runbook
 * "Disaster Recovery"), one file each.
 */
#ifndef DRCTL_SCENARIOS_H
#define DRCTL_SCENARIOS_H

#include "drctl/engine/engine.h"

extern const struct scenario db_corruption_scenario; /* runbook scenario 2 */
extern const struct scenario drill_scenario;         /* the monthly drill (drctl drill) */
extern const struct scenario cluster_loss_scenario;  /* runbook scenario 1 */
extern const struct scenario secrets_compromise_scenario; /* runbook scenario 3 */
extern const struct scenario secrets_rotation_scenario;   /* the third-Monday rotation (drctl rotate-secrets) */

#endif
