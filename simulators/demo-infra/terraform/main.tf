terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = var.region # e.g. "eu-west-1" { not a block }
}

locals {
  common_tags = {
    Team    = "platform"
    Service = "web-${var.environment}"
    Note    = "braces in strings: { } and \"quotes\""
  }
}

/*
  Logs bucket. A commented-out block must not be seen as real:
  resource "aws_s3_bucket" "old_logs" {
    bucket = "acme-old-logs"
  }
*/
resource "aws_s3_bucket" "logs" {
  bucket = "acme-prod-logs"

  tags = merge(local.common_tags, {
    Name = "${var.environment == "prod" ? "logs" : "logs-${var.environment}"}"
  })
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = <<-POLICY
    {
      "Version": "2012-10-17",
      "Statement": [{
        "Effect": "Allow",
        "Principal": { "Service": "logging.s3.amazonaws.com" },
        "Action": "s3:PutObject",
        "Resource": "${aws_s3_bucket.logs.arn}/*"
      }]
    }
    POLICY
}

# sg-0a1b2c3d4e5f60718
resource "aws_security_group" "web" {
  name        = "web-public"
  description = "Web tier {public}"
  vpc_id      = var.vpc_id

  # SSH from anywhere: the finding.
  ingress {
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    description      = "https"
    from_port        = 443
    to_port          = 443
    protocol         = "tcp"
    cidr_blocks      = ["0.0.0.0/0", "10.0.0.0/8"]
    ipv6_cidr_blocks = ["::/0"]
  }

  ingress {
    description     = "from the load balancer"
    from_port       = 8080
    to_port         = 8080
    protocol        = "tcp"
    security_groups = [aws_security_group.lb.id]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = local.common_tags
}

resource "aws_security_group" "lb" {
  name   = "lb"
  vpc_id = var.vpc_id

  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
