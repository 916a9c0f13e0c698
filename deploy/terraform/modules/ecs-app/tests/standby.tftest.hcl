# Issue 21, cross-region RTO: a recovery environment's app service exists ahead of a disaster,
# standing by with 0 tasks (pilot light) or a few (warm standby) and no container host kept but
# what those tasks need; recovery raises the scalable target's minimum (the runbook's scale-up).
mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
}

run "serving_runs_desired_count_on_its_hosts" {
  command = plan

  assert {
    condition     = aws_ecs_service.app.desired_count == 3 && aws_appautoscaling_target.app.min_capacity == 3 && aws_appautoscaling_target.app.max_capacity == 12
    error_message = "a serving environment runs desired_count tasks, the auto scaling minimum"
  }
  assert {
    condition     = aws_autoscaling_group.this.min_size == 3
    error_message = "a serving environment keeps its container hosts (asg_min_size)"
  }
}

run "pilot_light_runs_nothing" {
  command = plan
  variables {
    standby_count = 0
  }

  assert {
    condition     = aws_ecs_service.app.desired_count == 0 && aws_appautoscaling_target.app.min_capacity == 0
    error_message = "pilot light: the service exists with no task, and auto scaling keeps it there"
  }
  assert {
    condition     = aws_appautoscaling_target.app.max_capacity == var.max_count && aws_appautoscaling_target.app.resource_id == "service/mhp-test/mhp-app"
    error_message = "the scalable target is there to be raised to the serving size (max_count kept)"
  }
  assert {
    condition     = aws_autoscaling_group.this.min_size == 0 && aws_autoscaling_group.this.max_size == var.asg_max_size
    error_message = "pilot light: no container host runs; the capacity provider launches them when tasks are placed"
  }
  assert {
    condition     = aws_ecs_capacity_provider.this.auto_scaling_group_provider[0].managed_scaling[0].status == "ENABLED"
    error_message = "managed scaling launches the hosts a scaled-up service needs"
  }
}

run "warm_standby_runs_a_few_tasks" {
  command = plan
  variables {
    standby_count = 1
  }

  assert {
    condition     = aws_ecs_service.app.desired_count == 1 && aws_appautoscaling_target.app.min_capacity == 1 && aws_autoscaling_group.this.min_size == 0
    error_message = "warm standby: standby_count tasks, on the hosts they need"
  }
}

run "a_fraction_of_a_task_is_refused" {
  command = plan
  variables {
    standby_count = 0.5
  }
  expect_failures = [var.standby_count]
}
