from django.db import migrations, models

ACTORS = [
    ("model", "Model (tool call)"),
    ("memory_manager", "Memory manager"),
    ("person", "Person"),
    ("operator", "Operator"),
    ("api", "API"),
    ("mcp", "MCP client"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("memory_app", "0013_memory_proposals"),
    ]

    operations = [
        migrations.AlterField(
            model_name="memorychange",
            name="actor",
            field=models.CharField(choices=ACTORS, max_length=32),
        ),
        migrations.AlterField(
            model_name="memoryproposal",
            name="actor",
            field=models.CharField(choices=ACTORS, max_length=32),
        ),
    ]
