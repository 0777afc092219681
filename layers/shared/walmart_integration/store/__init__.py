"""Persistence and AWS adapters: DynamoDB repositories (key design in ``keys``), KMS vault, SQS queues.

Only this package creates boto3 clients; services receive repositories as values.
"""
